-- SPEC §2.5 derived SLOs: one row per (caller, callee, request) with the
-- request's figures and the number and summed caller-side latency of its
-- calls to the callee, from the calls tied to their request
-- (`slo_anchored`, built round by round by slo_anchor_*.sql). Only valid
-- (non-error) requests count.
SELECT a.caller, a.callee, r.name AS operation, r.duration_ns,
       COUNT(*) AS calls, SUM(a.latency_ns) AS latency_sum_ns, r.weight
FROM slo_anchored a
JOIN entry_spans r ON r.trace_id = a.trace_id AND r.span_id = a.request_id AND r.service = a.caller
WHERE NOT r.is_error
GROUP BY a.caller, a.callee, a.trace_id, a.request_id, r.name, r.duration_ns, r.weight
