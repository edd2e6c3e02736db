-- One round of the walk to each call's request: is `cur` an entry span of
-- the caller? If not, the next round looks at cur's parent
-- (slo_anchor_next.sql). Rounds stop when nothing is pending.
SELECT p.trace_id, p.caller, p.callee, p.latency_ns, p.cur,
       e.span_id IS NOT NULL AS hit
FROM slo_pending p
LEFT JOIN (SELECT DISTINCT trace_id, span_id, service FROM entry_spans) e
  ON e.trace_id = p.trace_id AND e.span_id = p.cur AND e.service = p.caller
