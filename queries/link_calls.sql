-- SPEC §2.2 "Links": each link resolved against the Producer spans of
-- every unit: a link to a Producer span of another service is one async
-- call producer → consumer, an error when either span is one, its latency
-- the consumer's duration. A producer span exported twice is one span
-- (the first of its services by name; an error when any copy is). A link
-- that finds no such span is unresolved (counted, no call).
WITH p AS (
  SELECT key, MIN(service) AS service, bool_or(is_error) AS is_error
  FROM producer_spans
  GROUP BY key
)
SELECT l.day, p.service AS caller, l.callee, l.link AS key,
       l.is_error OR p.is_error AS is_error, l.duration_ns, l.weight
FROM link_day l
JOIN p ON p.key = l.link
WHERE p.service <> l.callee
