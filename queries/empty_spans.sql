-- The normalised span columns with no rows: used when no span file is left
-- after pruning, so every later query still plans and yields empty tables.
SELECT
  CAST(NULL AS BYTEA) AS trace_id, CAST(NULL AS BYTEA) AS span_id,
  CAST(NULL AS BYTEA) AS parent_id, CAST(NULL AS BIGINT) AS start_ns,
  CAST(NULL AS BIGINT) AS duration_ns, CAST(NULL AS VARCHAR) AS service,
  CAST(NULL AS VARCHAR) AS name, CAST(NULL AS TINYINT) AS kind,
  CAST(NULL AS BOOLEAN) AS is_error, CAST(NULL AS VARCHAR) AS vnode,
  CAST(NULL AS VARCHAR) AS vtype, CAST(NULL AS VARCHAR) AS env,
  CAST(NULL AS DOUBLE) AS sample_weight, CAST(NULL AS TINYINT) AS sample_rule,
  om_links(NULL) AS links
WHERE false
