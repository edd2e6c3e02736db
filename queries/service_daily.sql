-- SPEC §3 `service_daily`: per service and day with at least one request.
SELECT service,
       arrow_cast(day, 'Date32') AS date,
       CAST(requests AS BIGINT) AS requests,
       CAST(errors AS BIGINT) AS errors,
       om_quantile(sketch, 0.5) AS p50_ms,
       om_quantile(sketch, 0.99) AS p99_ms
FROM service_day
ORDER BY service, date
