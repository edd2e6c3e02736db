-- Every span read, stamped with its trace's day, class and weight
-- (window_traces). `{{weight}}` is `, t.weight`, or nothing when no trace
-- of the unit is weighted: unsampled spans then hold no column of ones (the
-- views over this table add the constant).
SELECT s.trace_id, s.span_id, s.parent_id, s.start_ns, s.duration_ns,
       s.service, s.name, s.kind, s.is_error, s.vnode, s.vtype, s.links, t.day, t.class{{weight}}
FROM spans_read s
JOIN window_traces t ON s.trace_id = t.trace_id
