-- SPEC §2.2 "Links": one row per link of a Consumer span, with what the
-- call takes from the consumer: its service, day, error, duration and its
-- trace's weight (SPEC §2.14: the call is counted where the consumer's
-- request is). Resolved when the week is merged (link_calls.sql), since a
-- link may point into any trace of any day read. (The keys are cast: read
-- back from the trace buckets' Parquet they may be views.)
SELECT day, callee, is_error, duration_ns, weight, CAST(link AS BYTEA) AS link
FROM (
  SELECT day, service AS callee, is_error, duration_ns, weight, unnest(links) AS link
  FROM window_spans
  WHERE kind = 5 AND links IS NOT NULL
)
