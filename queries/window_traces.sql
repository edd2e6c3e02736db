-- SPEC §2 intro and §5: every trace a body unit read, classed by where its
-- earliest span read lies. A trace belongs to the window by the Timestamp
-- of its earliest span among the spans read; its day is that span's UTC
-- date (days since the epoch).
--   0 body:  starts on the unit's days, ends before their last
--            `trace_slack_minutes` ({{seam_start_ns}}): analysed here;
--   1 seam:  starts on the unit's days and reaches into those minutes: its
--            spans are kept for the seam unit, which reads on past midnight;
--   2 carry: starts in the slack before the unit's days: the previous day's
--            seam trace; its spans from the unit's first day on are kept
--            for that seam unit.
-- SPEC §2.14: `weight`, the traces this one stands for, and `rule`, the
-- rule that decided it (NULL: none; weight 1), from its deciding span;
-- `pending`: decided by its earliest span, which deciding_spans.sql finds
-- (weight and rule are set then).
SELECT trace_id,
       CAST(trace_start / 86400000000000 AS INT) AS day,
       CASE WHEN trace_start < {{day_start_ns}} THEN 2
            WHEN trace_last >= {{seam_start_ns}} THEN 1
            ELSE 0 END AS class,
       CASE WHEN roots = 1 THEN COALESCE(root_weight, 1.0) WHEN evidenced = 0 THEN 1.0 END AS weight,
       CASE WHEN roots = 1 THEN root_rule END AS rule,
       roots <> 1 AND evidenced > 0 AS pending
FROM trace_stats
WHERE trace_start < {{day_end_ns}}
