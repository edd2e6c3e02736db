-- SPEC §2.5 derived SLOs: each synchronous call from a service A that holds
-- a latency target belongs to the A request that is its nearest entry-span
-- ancestor in A, the calling span itself included. The ancestry is followed
-- five levels up (the calling span and four ancestors), which covers client
-- spans nested in up to three internal spans; deeper calls belong to no
-- request. One row per (caller, callee, request) with the request's figures
-- and the number and summed caller-side latency of its calls to the callee.
WITH calls AS (
  SELECT x.trace_id, x.parent_span_id, x.caller, x.callee,
         CASE WHEN x.parent_kind = 3 THEN x.parent_ns ELSE x.child_ns END AS latency_ns
  FROM cross_calls x
  JOIN slo_services t ON t.service = x.caller
  WHERE NOT (x.parent_kind = 4 OR x.child_kind = 5)
), anchored AS (
  SELECT c.trace_id, c.caller, c.callee, c.latency_ns,
         COALESCE(e0.span_id, e1.span_id, e2.span_id, e3.span_id, e4.span_id) AS request_id
  FROM calls c
  LEFT JOIN entry_spans e0 ON e0.trace_id = c.trace_id AND e0.span_id = c.parent_span_id AND e0.service = c.caller
  LEFT JOIN window_spans s1 ON s1.trace_id = c.trace_id AND s1.span_id = c.parent_span_id
  LEFT JOIN entry_spans e1 ON e1.trace_id = c.trace_id AND e1.span_id = s1.parent_id AND e1.service = c.caller
  LEFT JOIN window_spans s2 ON s2.trace_id = c.trace_id AND s2.span_id = s1.parent_id
  LEFT JOIN entry_spans e2 ON e2.trace_id = c.trace_id AND e2.span_id = s2.parent_id AND e2.service = c.caller
  LEFT JOIN window_spans s3 ON s3.trace_id = c.trace_id AND s3.span_id = s2.parent_id
  LEFT JOIN entry_spans e3 ON e3.trace_id = c.trace_id AND e3.span_id = s3.parent_id AND e3.service = c.caller
  LEFT JOIN window_spans s4 ON s4.trace_id = c.trace_id AND s4.span_id = s3.parent_id
  LEFT JOIN entry_spans e4 ON e4.trace_id = c.trace_id AND e4.span_id = s4.parent_id AND e4.service = c.caller
)
SELECT a.caller, a.callee, r.name AS operation, r.duration_ns,
       COUNT(*) AS calls, SUM(a.latency_ns) AS latency_sum_ns
FROM anchored a
JOIN entry_spans r ON r.trace_id = a.trace_id AND r.span_id = a.request_id AND r.service = a.caller
WHERE a.request_id IS NOT NULL AND NOT r.is_error
GROUP BY a.caller, a.callee, a.trace_id, a.request_id, r.name, r.duration_ns
