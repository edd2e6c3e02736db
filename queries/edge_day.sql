-- Daily partials per edge (SPEC §2.2). Service edges: async when the parent
-- is a Producer (4) or the child a Consumer (5); an error when the child is
-- one, or the parent is a Client (3)/Producer and is one; the call's latency
-- is the parent's duration for a Client parent, else the child's; the
-- child's own duration is the server-side latency. Virtual-node edges take
-- the Client span's duration and error, and have no server side (a
-- Producer's broker call waits for the links of the whole run:
-- link_edge_day.sql).
-- Counts and sketches are weighted by the trace's weight (SPEC §2.14);
-- observed_calls counts the calls kept.
SELECT day, caller, callee, 'service' AS callee_type,
       CASE WHEN parent_kind = 4 OR child_kind = 5 THEN 'async' ELSE 'sync' END AS kind,
       SUM(weight) AS calls,
       SUM(CASE WHEN child_error OR (parent_kind IN (3, 4) AND parent_error) THEN weight ELSE 0.0 END) AS errors,
       om_sketch(CASE WHEN parent_kind = 3 THEN parent_ns ELSE child_ns END, weight) AS sketch,
       om_sketch(child_ns, weight) AS server_sketch,
       COUNT(*) AS observed_calls
FROM cross_calls
GROUP BY day, caller, callee,
         CASE WHEN parent_kind = 4 OR child_kind = 5 THEN 'async' ELSE 'sync' END
UNION ALL
SELECT day, caller, callee, callee_type,
       'sync' AS kind,
       SUM(weight) AS calls,
       SUM(CASE WHEN is_error THEN weight ELSE 0.0 END) AS errors,
       om_sketch(duration_ns, weight) AS sketch,
       CAST(NULL AS BYTEA) AS server_sketch,
       COUNT(*) AS observed_calls
FROM virtual_calls
WHERE callee IS NOT NULL AND kind = 3
GROUP BY day, caller, callee, callee_type
