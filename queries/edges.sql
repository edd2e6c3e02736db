-- SPEC §3 `edges`: weekly per (caller, callee, callee_type, kind). Teams:
-- a service's owner or (unowned); a virtual node's catalog owner when the
-- catalog lists that name, else empty (NULL). Counts are weighted sums
-- (SPEC §2.14), rounded half away from zero; rates use the exact sums.
WITH merged AS (
  SELECT caller, callee, callee_type, kind,
         SUM(calls) AS calls, SUM(errors) AS errors, SUM(observed_calls) AS observed_calls,
         om_sketch_merge(sketch) AS sk, om_sketch_merge(server_sketch) AS ssk
  FROM edge_day
  GROUP BY caller, callee, callee_type, kind
)
SELECT m.caller, m.callee, m.callee_type, m.kind,
       CAST(round(m.calls) AS BIGINT) AS calls,
       CAST(round(m.errors) AS BIGINT) AS errors,
       CAST(m.errors AS DOUBLE) / m.calls AS error_rate,
       om_quantile(m.sk, 0.5) AS p50_ms,
       om_quantile(m.sk, 0.9) AS p90_ms,
       om_quantile(m.sk, 0.99) AS p99_ms,
       om_quantile(m.ssk, 0.5) AS server_p50_ms,
       om_quantile(m.ssk, 0.99) AS server_p99_ms,
       COALESCE(oc.team, '(unowned)') AS caller_team,
       CASE WHEN m.callee_type = 'service' THEN COALESCE(oe.team, '(unowned)')
            WHEN oe.service IS NOT NULL THEN COALESCE(oe.team, '(unowned)')
       END AS callee_team,
       CAST(m.observed_calls AS BIGINT) AS observed_calls
FROM merged m
LEFT JOIN owners oc ON oc.service = m.caller
LEFT JOIN owners oe ON oe.service = m.callee
ORDER BY m.caller, m.callee, m.callee_type, m.kind
