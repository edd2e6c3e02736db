-- SPEC §2 intro: the slack after the window's end, read for the last
-- day's seam traces (stamped with that day; the weight is their trace's,
-- set when the seam is assembled).
SELECT trace_id, span_id, parent_id, start_ns, duration_ns,
       service, name, kind, is_error, vnode, vtype, links, CAST({{day}} AS INT) AS day,
       CAST(1.0 AS DOUBLE) AS weight
FROM unit_spans
WHERE start_ns >= {{read_start_ns}} AND start_ns < {{read_end_ns}}
