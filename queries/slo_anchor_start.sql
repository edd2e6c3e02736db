-- SPEC §2.5 derived SLOs: the synchronous service calls, with the
-- caller-side latency (§2.2); `cur` starts at the calling span (the request
-- may be the calling span itself). Every caller is included so that the
-- figures do not depend on which services hold targets (the propagation
-- reads only the edges it needs).
SELECT x.trace_id, x.caller, x.callee,
       CASE WHEN x.parent_kind = 3 THEN x.parent_ns ELSE x.child_ns END AS latency_ns,
       x.parent_span_id AS cur
FROM cross_calls x
WHERE NOT (x.parent_kind = 4 OR x.child_kind = 5)
