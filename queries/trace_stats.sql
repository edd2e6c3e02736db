-- SPEC §2 intro, in one pass over the spans read: per trace its earliest
-- span, its rows, and its rows whose (TraceId, SpanId) occurs more than
-- once (two copies count 2). Only this per-trace table is kept in memory.
WITH k AS (
  SELECT trace_id, COUNT(*) AS n, MIN(start_ns) AS s
  FROM spans_read
  GROUP BY trace_id, span_id
)
SELECT trace_id,
       MIN(s) AS trace_start,
       SUM(n) AS spans,
       SUM(CASE WHEN n > 1 THEN n ELSE 0 END) AS duplicate_rows
FROM k
GROUP BY trace_id
