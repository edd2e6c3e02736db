-- SPEC §5: the spans of a unit's seam traces (those that start on the
-- unit's days and reach into their last `trace_slack_minutes`), read on
-- into the next day (to the end of the slack at the window's end), so
-- that a trace crossing midnight is analysed whole and counted once.
SELECT *
FROM {{source}}
WHERE start_ns >= {{read_start_ns}} AND start_ns < {{read_end_ns}}
  AND trace_id IN (SELECT trace_id FROM seam_ids)
