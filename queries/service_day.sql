-- Daily partials per service (SPEC §2.3): counts and a mergeable sketch of
-- entry-span durations, weighted by the trace's weight (SPEC §2.14);
-- observed_requests counts the entry spans kept.
SELECT day, service,
       SUM(weight) AS requests,
       SUM(CASE WHEN is_root THEN weight ELSE 0.0 END) AS root_requests,
       SUM(CASE WHEN is_error THEN weight ELSE 0.0 END) AS errors,
       om_sketch(duration_ns, weight) AS sketch,
       MAX(duration_ns) AS max_ns,
       COUNT(*) AS observed_requests
FROM entry_spans
GROUP BY day, service
