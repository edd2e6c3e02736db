-- SPEC §2.5: per caller → callee (and per caller operation): n = mean calls
-- per valid request that calls the callee; share = median (interpolated) of
-- the request's summed caller-side latency ÷ its duration, capped at 1 (a
-- zero-duration request has share 1). Each request carries its trace's
-- weight (SPEC §2.14): a weighted mean and a weighted median.
WITH r AS (
  SELECT caller, callee, operation, CAST(calls AS DOUBLE) AS calls, weight,
         CASE WHEN duration_ns <= 0 THEN 1.0
              ELSE LEAST(1.0, CAST(latency_sum_ns AS DOUBLE) / CAST(duration_ns AS DOUBLE)) END AS share
  FROM slo_requests
)
SELECT caller, callee, CAST(NULL AS VARCHAR) AS operation,
       SUM(calls * weight) / SUM(weight) AS n, om_weighted_median(share, weight) AS share
FROM r GROUP BY caller, callee
UNION ALL
SELECT caller, callee, operation, SUM(calls * weight) / SUM(weight) AS n, om_weighted_median(share, weight) AS share
FROM r GROUP BY caller, callee, operation
