-- SPEC §2.1: entry spans are Server/Consumer spans, and Internal/Unspecified
-- spans with no parent, an absent parent, or a parent of another service.
-- (Written as a union because an anti-join under OR does not decorrelate.)
SELECT day, trace_id, span_id, service, name, is_error, duration_ns,
       parent_id IS NULL AS is_root, weight
FROM window_spans
WHERE kind IN (2, 5)
UNION ALL
SELECT s.day, s.trace_id, s.span_id, s.service, s.name, s.is_error, s.duration_ns,
       s.parent_id IS NULL AS is_root, s.weight
FROM window_spans s
WHERE s.kind IN (0, 1)
  AND NOT EXISTS (
    SELECT 1 FROM window_spans p
    WHERE p.trace_id = s.trace_id
      AND p.span_id = s.parent_id
      AND p.service = s.service
  )
