-- SPEC §2 intro: the spans read for a run are those of the window plus the
-- trace slack on either side (partitions outside were never opened).
SELECT *
FROM spans_all
WHERE start_ns >= {{read_start_ns}} AND start_ns < {{read_end_ns}}
