-- SPEC §2 intro: rows among the spans read whose (TraceId, SpanId) occurs
-- more than once; two copies count 2.
SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS duplicate_span_ids
FROM (
  SELECT COUNT(*) AS n
  FROM spans_read
  GROUP BY trace_id, span_id
  HAVING COUNT(*) > 1
)
