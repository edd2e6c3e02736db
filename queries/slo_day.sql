-- SPEC §2.5: valid and good events per catalog SLO and day. Valid = entry
-- spans of the service (of the operation, if given); latency SLOs count
-- only non-error spans as valid and call a span good when its duration is
-- at most latency_ms; availability SLOs call a span good when it is not an
-- error. Each span counts its trace's weight (SPEC §2.14).
SELECT d.service, d.slo, e.day,
       SUM(e.weight) AS valid,
       SUM(CASE
             WHEN d.latency_ms IS NULL THEN CASE WHEN e.is_error THEN 0.0 ELSE e.weight END
             WHEN CAST(e.duration_ns AS DOUBLE) <= d.latency_ms * 1e6 THEN e.weight
             ELSE 0.0
           END) AS good
FROM slo_defs d
JOIN entry_spans e ON e.service = d.service
WHERE (d.operation IS NULL OR e.name = d.operation)
  AND (d.latency_ms IS NULL OR NOT e.is_error)
GROUP BY d.service, d.slo, e.day
