-- SPEC §5: the traces a body unit hands to its seam unit: they start on
-- the unit's days and have a span in the last `trace_slack_minutes`.
SELECT trace_id
FROM trace_stats
WHERE trace_start >= {{day_start_ns}} AND trace_start < {{day_end_ns}}
  AND trace_last >= {{seam_start_ns}}
