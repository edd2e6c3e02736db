-- SPEC §2.4: the window's error spans, with what the attribution walk needs
-- from their surroundings: whether the parent is present among the spans
-- read, and whether the span has a child in another service (a Client or
-- Producer without one calls a virtual node). Only error traces reach Rust.
WITH err AS (
  SELECT trace_id, span_id, parent_id, service, name, kind, start_ns, vnode, weight
  FROM window_spans
  WHERE is_error
), present AS (
  SELECT DISTINCT p.trace_id, p.span_id
  FROM window_spans p
  JOIN err e ON p.trace_id = e.trace_id AND p.span_id = e.parent_id
), crossing AS (
  SELECT DISTINCT x.trace_id, x.parent_span_id
  FROM cross_calls x
  JOIN err e ON x.trace_id = e.trace_id AND x.parent_span_id = e.span_id
)
SELECT e.trace_id, e.span_id, e.parent_id, e.service, e.name, e.kind, e.start_ns, e.vnode, e.weight,
       pr.span_id IS NOT NULL AS parent_present,
       cr.parent_span_id IS NOT NULL AS has_cross_child
FROM err e
LEFT JOIN present pr ON pr.trace_id = e.trace_id AND pr.span_id = e.parent_id
LEFT JOIN crossing cr ON cr.trace_id = e.trace_id AND cr.parent_span_id = e.span_id
