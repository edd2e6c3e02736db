-- SPEC §2.2 "Uninstrumented callees": Client/Producer spans with no child in
-- another service. With a name attribute they call a virtual node (vnode);
-- without one they are unresolved calls (vnode NULL). A virtual node that
-- carries the caller's own name makes no edge and is dropped here.
SELECT s.day, s.service AS caller, s.vnode AS callee, s.vtype AS callee_type,
       s.kind, s.is_error, s.duration_ns, s.weight
FROM window_spans s
WHERE s.kind IN (3, 4)
  AND (s.vnode IS NULL OR s.vnode <> s.service)
  AND NOT EXISTS (
    SELECT 1 FROM cross_calls x
    WHERE x.trace_id = s.trace_id AND x.parent_span_id = s.span_id
  )
