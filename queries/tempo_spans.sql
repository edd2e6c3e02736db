-- SPEC §1.1 via Tempo blocks (vParquet4/5): each row of {{source}} is a
-- whole trace, nested Trace → rs (resource spans) → ss (scope spans) →
-- Spans. Unnest to one row per span with the canonical normalised columns;
-- the attributes that name an uninstrumented callee (SPEC §2.2) are
-- unnested separately and pivoted back.
WITH r AS (
  SELECT "TraceID" AS trace_id, unnest("rs") AS r FROM {{source}}
), s AS (
  SELECT trace_id, r['Resource']['ServiceName'] AS service, unnest(r['ss']) AS ss FROM r
), sp AS (
  SELECT trace_id, service, unnest(ss['Spans']) AS sp FROM s
), spans AS (
  SELECT trace_id, service, sp['SpanID'] AS span_id, sp['ParentSpanID'] AS parent_id,
         sp['Name'] AS name, sp['Kind'] AS kind, sp['StartTimeUnixNano'] AS start,
         sp['DurationNano'] AS duration, sp['StatusCode'] AS status, sp['Attrs'] AS attrs
  FROM sp
), a AS (
  SELECT trace_id, span_id, unnest(attrs) AS kv FROM spans
), named AS (
  SELECT trace_id, span_id,
         MAX(CASE WHEN kv['Key'] = 'peer.service' THEN NULLIF(kv['Value'][1], '') END) AS peer_service,
         MAX(CASE WHEN kv['Key'] = 'db.system.name' THEN NULLIF(kv['Value'][1], '') END) AS db_system_name,
         MAX(CASE WHEN kv['Key'] = 'db.system' THEN NULLIF(kv['Value'][1], '') END) AS db_system,
         MAX(CASE WHEN kv['Key'] = 'messaging.system' THEN NULLIF(kv['Value'][1], '') END) AS messaging_system,
         MAX(CASE WHEN kv['Key'] = 'rpc.service' THEN NULLIF(kv['Value'][1], '') END) AS rpc_service,
         MAX(CASE WHEN kv['Key'] = 'server.address' THEN NULLIF(kv['Value'][1], '') END) AS server_address,
         MAX(CASE WHEN kv['Key'] = 'net.peer.name' THEN NULLIF(kv['Value'][1], '') END) AS net_peer_name
  FROM a
  WHERE kv['Key'] IN ('peer.service', 'db.system.name', 'db.system', 'messaging.system', 'rpc.service', 'server.address', 'net.peer.name')
  GROUP BY trace_id, span_id
)
SELECT om_bin_id(arrow_cast(s.trace_id, 'Binary')) AS trace_id,
       om_bin_id(arrow_cast(s.span_id, 'Binary')) AS span_id,
       om_bin_id(arrow_cast(s.parent_id, 'Binary')) AS parent_id,
       CAST(s.start AS BIGINT) AS start_ns,
       CAST(s.duration AS BIGINT) AS duration_ns,
       CAST(s.service AS VARCHAR) AS service,
       CAST(s.name AS VARCHAR) AS name,
       CAST(CASE WHEN s.kind BETWEEN 0 AND 5 THEN s.kind ELSE 0 END AS TINYINT) AS kind,
       COALESCE(s.status = 2, false) AS is_error,
       CASE WHEN s.kind IN (3, 4) THEN
         COALESCE(n.peer_service, n.db_system_name, n.db_system, n.messaging_system, n.rpc_service, n.server_address, n.net_peer_name)
       END AS vnode,
       CASE WHEN COALESCE(n.db_system_name, n.db_system) IS NOT NULL THEN 'database'
            WHEN n.messaging_system IS NOT NULL THEN 'messaging' ELSE 'external' END AS vtype,
       CAST(NULL AS VARCHAR) AS env,
       -- sampling evidence (§2.14) and links (§2.2) are not read from Tempo
       -- blocks yet
       CAST(NULL AS DOUBLE) AS sample_weight, CAST(NULL AS TINYINT) AS sample_rule,
       om_links(NULL) AS links
FROM spans s
LEFT JOIN named n ON n.trace_id = s.trace_id AND n.span_id = s.span_id
