-- Daily partials per (service, operation) (SPEC §2.3).
SELECT day, service, name AS operation,
       COUNT(*) AS requests,
       SUM(CASE WHEN is_error THEN 1 ELSE 0 END) AS errors,
       om_sketch(duration_ns) AS sketch,
       MAX(duration_ns) AS max_ns
FROM entry_spans
GROUP BY day, service, name
