-- SPEC §3 `operations`: per (service, operation) with at least one request.
WITH merged AS (
  SELECT service, operation,
         SUM(requests) AS requests, SUM(errors) AS errors,
         om_sketch_merge(sketch) AS sk, MAX(max_ns) AS max_ns
  FROM operation_day
  GROUP BY service, operation
)
SELECT m.service, m.operation,
       COALESCE(o.team, '(unowned)') AS team,
       CAST(m.requests AS BIGINT) AS requests,
       CAST(m.errors AS BIGINT) AS errors,
       CAST(m.errors AS DOUBLE) / m.requests AS error_rate,
       om_quantile(m.sk, 0.5) AS p50_ms,
       om_quantile(m.sk, 0.9) AS p90_ms,
       om_quantile(m.sk, 0.95) AS p95_ms,
       om_quantile(m.sk, 0.99) AS p99_ms,
       om_quantile(m.sk, 0.999) AS p999_ms,
       m.max_ns / 1e6 AS max_ms
FROM merged m
LEFT JOIN owners o ON o.service = m.service
ORDER BY m.service, m.operation
