-- SPEC §2.3 latency columns of a merged sketch `m.sk` and maximum
-- `m.max_ns`, shared by services.sql and operations.sql ({{latency_columns}}).
om_quantile(m.sk, 0.5) AS p50_ms,
       om_quantile(m.sk, 0.9) AS p90_ms,
       om_quantile(m.sk, 0.95) AS p95_ms,
       om_quantile(m.sk, 0.99) AS p99_ms,
       om_quantile(m.sk, 0.999) AS p999_ms,
       m.max_ns / 1e6 AS max_ms
