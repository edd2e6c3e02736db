-- SPEC §2 intro: a trace belongs to the window by the Timestamp of its
-- earliest span among the spans read; its day is that span's UTC date
-- (days since the epoch). A body unit leaves out the traces reaching into
-- its last `trace_slack_minutes` (`{{seam_start_ns}}`): its seam unit
-- analyses those whole.
SELECT trace_id, CAST(trace_start / 86400000000000 AS INT) AS day
FROM trace_stats
WHERE trace_start >= {{day_start_ns}} AND trace_start < {{day_end_ns}}
  AND trace_last < {{seam_start_ns}}
