-- SPEC §2.5: the window's sketch of caller-side latency per synchronous
-- service edge, for the observed q_B-quantile of a derived target.
SELECT caller, callee, om_sketch_merge(sketch) AS sketch
FROM edge_day
WHERE callee_type = 'service' AND kind = 'sync'
GROUP BY caller, callee
