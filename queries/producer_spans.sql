-- SPEC §2.2 "Links": every Producer span of the unit by its link key
-- (om_link_key), for the links of any unit to find, and the Producer
-- spans of the slack read before the unit's first day (`producer_slack`:
-- link targets only). `virtual`: the span has no child in another service,
-- so it calls its broker (a virtual node, or an unresolved call when no
-- attribute names one) unless a link from a Consumer of another service
-- finds it; that is decided when the week is merged (link_edge_day.sql), so
-- these calls are not in edge_day.
SELECT s.day, om_link_key(s.trace_id, s.span_id) AS key, s.service, s.is_error,
       s.vnode, s.vtype, s.duration_ns, s.weight, x.trace_id IS NULL AS virtual
FROM window_spans s
LEFT JOIN (SELECT DISTINCT trace_id, parent_span_id FROM cross_calls WHERE parent_kind = 4) x
  ON x.trace_id = s.trace_id AND x.parent_span_id = s.span_id
WHERE s.kind = 4
UNION ALL
SELECT day, key, service, is_error, CAST(NULL AS VARCHAR) AS vnode, CAST(NULL AS VARCHAR) AS vtype,
       duration_ns, CAST(1.0 AS DOUBLE) AS weight, false AS virtual
FROM producer_slack
