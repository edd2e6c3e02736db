-- SPEC §2.2: Client/Producer spans with no child in another service and no
-- attribute naming the callee.
SELECT COUNT(*) AS unresolved_calls FROM virtual_calls WHERE callee IS NULL
