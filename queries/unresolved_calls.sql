-- SPEC §2.2: Client spans with no child in another service and no
-- attribute naming the callee (Producer spans: link_unresolved.sql).
SELECT COUNT(*) AS unresolved_calls FROM virtual_calls WHERE callee IS NULL AND kind = 3
