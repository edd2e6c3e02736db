-- Services with at least one span on each day (SPEC §2.1: the services table
-- has a row for every service with a span in the window).
SELECT DISTINCT day, service FROM window_spans
