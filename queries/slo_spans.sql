-- SPEC §2.5 derived SLOs: the spans of services that hold a latency target
-- (declared or derived), with their entry flag, so each call can be tied to
-- the request it belongs to (its nearest entry-span ancestor in the caller).
SELECT w.trace_id, w.span_id, w.parent_id, w.service, w.name, w.is_error, w.duration_ns,
       e.span_id IS NOT NULL AS is_entry
FROM window_spans w
JOIN slo_services t ON t.service = w.service
LEFT JOIN (SELECT DISTINCT trace_id, span_id, service FROM entry_spans) e
  ON e.trace_id = w.trace_id AND e.span_id = w.span_id AND e.service = w.service
