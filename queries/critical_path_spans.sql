-- SPEC §2.9: the spans the critical-path walk needs, every span of the
-- unit's traces (the walk finds the roots, the virtual nodes and which
-- spans have a child in another service itself, trace by trace).
SELECT day, trace_id, span_id, parent_id, start_ns, duration_ns, service, name, kind, vnode
FROM window_spans
