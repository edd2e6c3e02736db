-- SPEC §2.2 "Links": the Producer spans read in the slack before a body
-- unit's first day, which may belong to no trace of the window; a link
-- may still point at them ("among the spans read for the run").
SELECT day, om_link_key(trace_id, span_id) AS key, service, is_error, duration_ns
FROM window_spans_all
WHERE class = 2 AND kind = 4 AND start_ns < {{day_start_ns}}
