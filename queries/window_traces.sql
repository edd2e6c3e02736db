-- SPEC §2 intro: a trace belongs to the window by the Timestamp of its
-- earliest span among the spans read; its day is that span's UTC date
-- (days since the epoch).
SELECT trace_id, CAST(trace_start / 86400000000000 AS INT) AS day
FROM trace_stats
WHERE trace_start >= {{start_ns}} AND trace_start < {{end_ns}}
