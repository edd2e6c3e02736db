-- Daily partials per service (SPEC §2.3): counts and a mergeable sketch of
-- entry-span durations.
SELECT day, service,
       COUNT(*) AS requests,
       SUM(CASE WHEN is_root THEN 1 ELSE 0 END) AS root_requests,
       SUM(CASE WHEN is_error THEN 1 ELSE 0 END) AS errors,
       om_sketch(duration_ns) AS sketch,
       MAX(duration_ns) AS max_ns
FROM entry_spans
GROUP BY day, service
