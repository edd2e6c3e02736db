-- SPEC §2 intro, in one pass over the spans read: per trace its earliest
-- and latest span, its rows, and its rows whose (TraceId, SpanId) occurs
-- more than once (two copies count 2), in all and from `{{day_start_ns}}`
-- on (the unit's own days; before it lies the slack). Only this per-trace
-- table is kept in memory.
-- SPEC §2.14: the sampling evidence of the trace's deciding span when it
-- is its one root (a span id with no parent), and how many of its span ids
-- carry evidence at all. A trace with no root or several whose spans carry
-- evidence is decided by its earliest span, found afterwards for those
-- traces only (queries/deciding_spans.sql): an ordered aggregate over
-- every trace cost more than the rest of this query.
WITH k AS (
  SELECT trace_id, span_id, COUNT(*) AS n,
         SUM(CASE WHEN start_ns >= {{day_start_ns}} THEN 1 ELSE 0 END) AS n_day,
         MIN(start_ns) AS s, MAX(start_ns) AS l,
         MAX(CASE WHEN parent_id IS NULL THEN 1 ELSE 0 END) AS is_root,
         MAX(sample_weight) AS sw, MAX(sample_rule) AS sr
  FROM spans_read
  GROUP BY trace_id, span_id
)
SELECT trace_id,
       MIN(s) AS trace_start,
       MAX(l) AS trace_last,
       SUM(n) AS spans,
       SUM(n_day) AS spans_day,
       SUM(CASE WHEN n > 1 THEN n ELSE 0 END) AS duplicate_rows,
       SUM(CASE WHEN n > 1 THEN n_day ELSE 0 END) AS duplicate_rows_day,
       SUM(is_root) AS roots,
       MAX(CASE WHEN is_root = 1 THEN sw END) AS root_weight,
       MAX(CASE WHEN is_root = 1 THEN sr END) AS root_rule,
       SUM(CASE WHEN sr IS NOT NULL THEN 1 ELSE 0 END) AS evidenced
FROM k
GROUP BY trace_id
