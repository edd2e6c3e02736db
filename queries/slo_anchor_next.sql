-- The calls still without a request move one span up.
SELECT r.trace_id, r.caller, r.callee, r.latency_ns, s.parent_id AS cur
FROM slo_round r
JOIN window_spans s ON s.trace_id = r.trace_id AND s.span_id = r.cur
WHERE NOT r.hit AND s.parent_id IS NOT NULL
