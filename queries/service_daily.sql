-- SPEC §3 `service_daily`: per service and day with at least one request
-- (partials of several buckets of traces merge here).
SELECT service,
       arrow_cast(day, 'Date32') AS date,
       CAST(round(SUM(requests)) AS BIGINT) AS requests,
       CAST(round(SUM(errors)) AS BIGINT) AS errors,
       om_quantile(om_sketch_merge(sketch), 0.5) AS p50_ms,
       om_quantile(om_sketch_merge(sketch), 0.99) AS p99_ms
FROM service_day
GROUP BY service, day
ORDER BY service, date
