-- Every span read, stamped with its trace's day, class and weight
-- (window_traces).
SELECT s.trace_id, s.span_id, s.parent_id, s.start_ns, s.duration_ns,
       s.service, s.name, s.kind, s.is_error, s.vnode, s.vtype, t.day, t.class, t.weight
FROM spans_read s
JOIN window_traces t ON s.trace_id = t.trace_id
