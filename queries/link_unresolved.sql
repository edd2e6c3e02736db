-- SPEC §2.2 and summary.json: links that found no Producer span of another
-- service, and Producer spans that call no one (no child in another
-- service, no link found them, no attribute names their broker).
SELECT (SELECT COUNT(*) FROM link_day) - (SELECT COUNT(*) FROM link_calls) AS unresolved_links,
       (SELECT COUNT(*)
        FROM producer_spans p
        LEFT JOIN (SELECT DISTINCT key FROM link_calls) l ON l.key = p.key
        WHERE p.virtual AND p.vnode IS NULL AND l.key IS NULL) AS unresolved_calls
