-- SPEC §5: a seam unit's spans: those its body read for the seam traces
-- (`seam_head`), and those after midnight (`seam_tail`: kept by the next
-- day's body, or read from the slack after the window's end), only of
-- this unit's seam traces.
SELECT * FROM seam_head
UNION ALL
SELECT * FROM seam_tail WHERE trace_id IN (SELECT trace_id FROM seam_ids)
