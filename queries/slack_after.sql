-- SPEC §2 intro: spans read in the slack after the window (`seam_tail`; no
-- window trace starts there) and their duplicate rows, for summary.json.
WITH k AS (
  SELECT trace_id, span_id, COUNT(*) AS n
  FROM seam_tail
  GROUP BY trace_id, span_id
)
SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS spans,
       CAST(COALESCE(SUM(CASE WHEN n > 1 THEN n ELSE 0 END), 0) AS BIGINT) AS dups
FROM k
