-- SPEC §3 `services`: weekly figures merged from the daily partials; a row
-- for every service with a span in the window (requests may be 0, and then
-- rates and latencies are empty). Counts are weighted sums (SPEC §2.14),
-- rounded half away from zero; rates use the exact sums.
WITH merged AS (
  SELECT service,
         SUM(requests) AS requests, SUM(root_requests) AS root_requests,
         SUM(errors) AS errors, om_sketch_merge(sketch) AS sk, MAX(max_ns) AS max_ns,
         SUM(observed_requests) AS observed_requests
  FROM service_day
  GROUP BY service
), seen AS (
  SELECT DISTINCT service FROM span_services_day
)
SELECT s.service,
       COALESCE(o.team, '(unowned)') AS team,
       CAST(round(COALESCE(m.requests, 0)) AS BIGINT) AS requests,
       CAST(round(COALESCE(m.root_requests, 0)) AS BIGINT) AS root_requests,
       CAST(round(COALESCE(m.errors, 0)) AS BIGINT) AS errors,
       CASE WHEN m.requests > 0 THEN CAST(m.errors AS DOUBLE) / m.requests END AS error_rate,
       {{latency_columns}},
       CAST(COALESCE(m.observed_requests, 0) AS BIGINT) AS observed_requests
FROM seen s
LEFT JOIN merged m ON m.service = s.service
LEFT JOIN owners o ON o.service = s.service
ORDER BY s.service
