-- SPEC §3 `services`: weekly figures merged from the daily partials; a row
-- for every service with a span in the window (requests may be 0, and then
-- rates and latencies are empty).
WITH merged AS (
  SELECT service,
         SUM(requests) AS requests, SUM(root_requests) AS root_requests,
         SUM(errors) AS errors, om_sketch_merge(sketch) AS sk, MAX(max_ns) AS max_ns
  FROM service_day
  GROUP BY service
), seen AS (
  SELECT DISTINCT service FROM span_services_day
)
SELECT s.service,
       COALESCE(o.team, '(unowned)') AS team,
       CAST(COALESCE(m.requests, 0) AS BIGINT) AS requests,
       CAST(COALESCE(m.root_requests, 0) AS BIGINT) AS root_requests,
       CAST(COALESCE(m.errors, 0) AS BIGINT) AS errors,
       CASE WHEN m.requests > 0 THEN CAST(m.errors AS DOUBLE) / m.requests END AS error_rate,
       {{latency_columns}}
FROM seen s
LEFT JOIN merged m ON m.service = s.service
LEFT JOIN owners o ON o.service = s.service
ORDER BY s.service
