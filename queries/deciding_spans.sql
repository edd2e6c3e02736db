-- SPEC §2.14: the weight and rule of the traces whose deciding span is
-- their earliest (no root, or several, and evidence on some span): the
-- evidence of the earliest span read (ties: smallest SpanId); no key on it
-- is weight 1. Only the pending traces of window_traces are aggregated.
WITH d AS (
  SELECT s.trace_id,
         first_value(s.sample_weight ORDER BY s.start_ns, s.span_id) AS w,
         first_value(s.sample_rule ORDER BY s.start_ns, s.span_id) AS r
  FROM spans_read s
  JOIN (SELECT trace_id FROM window_traces WHERE pending) p ON p.trace_id = s.trace_id
  GROUP BY s.trace_id
)
SELECT t.trace_id, t.day, t.class,
       CASE WHEN t.pending THEN COALESCE(d.w, 1.0) ELSE t.weight END AS weight,
       CASE WHEN t.pending THEN d.r ELSE t.rule END AS rule,
       false AS pending
FROM window_traces t
LEFT JOIN d ON d.trace_id = t.trace_id
