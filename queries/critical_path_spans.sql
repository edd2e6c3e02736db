-- SPEC §2.9: the spans the critical-path walk needs, every span of the
-- unit's traces (the walk finds the roots, the virtual nodes and which
-- spans have a child in another service itself, trace by trace). The same
-- pass over the traces finds the rows of `cross_calls`, `virtual_calls` and
-- `entry_spans` on one machine (their SQL files state what they are), so
-- every column of `window_spans` is read.
SELECT day, trace_id, span_id, parent_id, start_ns, duration_ns, service, name, kind, is_error, vnode, vtype, weight
FROM window_spans
