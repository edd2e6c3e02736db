-- SPEC §2 intro and §5: the spans one unit of days reads, from the
-- normalised spans of the partitions it opens (`{{source}}`), cut to its
-- read range: the unit's days plus the trace slack before them.
SELECT *
FROM {{source}}
WHERE start_ns >= {{read_start_ns}} AND start_ns < {{read_end_ns}}
