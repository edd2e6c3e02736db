-- SPEC §2.9: the spans of every trace with a root (empty ParentSpanId) that
-- is an entry span of kind Server, Internal or Unspecified with a positive
-- duration; a Client/Producer span with no child in another service that
-- names a virtual node other than its own service carries it in `vnode`
-- (its waiting time is the virtual node's).
SELECT s.day, s.trace_id, s.span_id, s.parent_id, s.start_ns, s.duration_ns,
       s.service, s.name, s.kind,
       CASE WHEN s.kind IN (3, 4) AND s.vnode IS NOT NULL AND s.vnode <> s.service
                 AND x.parent_span_id IS NULL
            THEN s.vnode END AS vnode
FROM window_spans s
LEFT JOIN (SELECT DISTINCT trace_id, parent_span_id FROM cross_calls) x
  ON x.trace_id = s.trace_id AND x.parent_span_id = s.span_id
WHERE s.trace_id IN (
  SELECT trace_id FROM window_spans
  WHERE parent_id IS NULL AND kind IN (0, 1, 2) AND duration_ns > 0
)
