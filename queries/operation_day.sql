-- Daily partials per (service, operation) (SPEC §2.3), weighted as
-- service_day.sql.
SELECT day, service, name AS operation,
       SUM(weight) AS requests,
       SUM(CASE WHEN is_error THEN weight ELSE 0.0 END) AS errors,
       om_sketch(duration_ns, weight) AS sketch,
       MAX(duration_ns) AS max_ns,
       COUNT(*) AS observed_requests
FROM entry_spans
GROUP BY day, service, name
