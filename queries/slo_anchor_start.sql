-- SPEC §2.5 derived SLOs: the synchronous service calls from services that
-- hold a latency target, with the caller-side latency (§2.2); `cur` starts
-- at the calling span (the request may be the calling span itself).
SELECT x.trace_id, x.caller, x.callee,
       CASE WHEN x.parent_kind = 3 THEN x.parent_ns ELSE x.child_ns END AS latency_ns,
       x.parent_span_id AS cur
FROM cross_calls x
JOIN slo_services t ON t.service = x.caller
WHERE NOT (x.parent_kind = 4 OR x.child_kind = 5)
