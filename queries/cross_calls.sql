-- SPEC §2.2: one call for every parent/child pair of spans in the same trace
-- whose services differ. Duplicate rows each pair up (spans are taken as
-- they are).
SELECT c.day,
       p.trace_id,
       p.span_id AS parent_span_id,
       p.service AS caller,
       c.service AS callee,
       p.kind AS parent_kind,
       c.kind AS child_kind,
       p.is_error AS parent_error,
       c.is_error AS child_error,
       p.duration_ns AS parent_ns,
       c.duration_ns AS child_ns,
       c.weight
FROM window_spans c
JOIN window_spans p
  ON c.trace_id = p.trace_id AND c.parent_id = p.span_id
WHERE c.service <> p.service
