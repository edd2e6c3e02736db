-- SPEC §2.2: the daily edge rows only the whole run can tell (the columns
-- of edge_day.sql). Link calls join the propagated Producer → Consumer edge
-- of the same pair (the consumer's duration is the call's latency and its
-- server side). A Producer span with no child in another service calls its
-- broker's virtual node, unless a link found it.
SELECT day, caller, callee, 'service' AS callee_type, 'async' AS kind,
       SUM(weight) AS calls,
       SUM(CASE WHEN is_error THEN weight ELSE 0.0 END) AS errors,
       om_sketch(duration_ns, weight) AS sketch,
       om_sketch(duration_ns, weight) AS server_sketch,
       COUNT(*) AS observed_calls
FROM link_calls
GROUP BY day, caller, callee
UNION ALL
SELECT p.day, p.service AS caller, p.vnode AS callee, p.vtype AS callee_type, 'async' AS kind,
       SUM(p.weight) AS calls,
       SUM(CASE WHEN p.is_error THEN p.weight ELSE 0.0 END) AS errors,
       om_sketch(p.duration_ns, p.weight) AS sketch,
       CAST(NULL AS BYTEA) AS server_sketch,
       COUNT(*) AS observed_calls
FROM producer_spans p
LEFT JOIN (SELECT DISTINCT key FROM link_calls) l ON l.key = p.key
WHERE p.virtual AND p.vnode IS NOT NULL AND p.vnode <> p.service AND l.key IS NULL
GROUP BY p.day, p.service, p.vnode, p.vtype
