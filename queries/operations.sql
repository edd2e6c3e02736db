-- SPEC §3 `operations`: per (service, operation) with at least one request.
WITH merged AS (
  SELECT service, operation,
         SUM(requests) AS requests, SUM(errors) AS errors,
         om_sketch_merge(sketch) AS sk, MAX(max_ns) AS max_ns,
         SUM(observed_requests) AS observed_requests
  FROM operation_day
  GROUP BY service, operation
)
SELECT m.service, m.operation,
       COALESCE(o.team, '(unowned)') AS team,
       CAST(round(m.requests) AS BIGINT) AS requests,
       CAST(round(m.errors) AS BIGINT) AS errors,
       CAST(m.errors AS DOUBLE) / m.requests AS error_rate,
       {{latency_columns}},
       CAST(m.observed_requests AS BIGINT) AS observed_requests
FROM merged m
LEFT JOIN owners o ON o.service = m.service
ORDER BY m.service, m.operation
