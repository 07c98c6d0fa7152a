-- usage_flow_cells: an org's per-flow usage over a range, from the per-flow rollups of its live
-- generation: the full weeks p_week_from to p_week_to from usage_flow_weekly (Mondays; an empty
-- range unless the report is by week) and the days around them, p_from to p_days_to and
-- p_days_from to p_to, from usage_flow_daily; p_flow '' for every flow. A week's row carries its
-- Monday as day. One row per stored cell, unaggregated (ranges of the rollups' primary keys).
--
-- The reports by flow, their CSV and every report's top flows read it (billing/reports/
-- queries.sql). A plain SQL function (STABLE, one SELECT, no SET clause), so PostgreSQL inlines
-- it into the calling query and plans it there, as if its text were written out.
CREATE OR REPLACE FUNCTION usage_flow_cells(
    p_org text, p_week_from date, p_week_to date, p_from date, p_days_to date, p_days_from date,
    p_to date, p_flow text)
RETURNS TABLE (day date, flow_id text, credits_mc bigint, quantity bigint, events bigint)
LANGUAGE sql STABLE
AS $$
    SELECT w.week, w.flow_id, w.credits_mc, w.quantity, w.events
    FROM usage_flow_weekly w
    WHERE w.org_id = p_org AND w.gen = (SELECT o.rollup_gen FROM orgs o WHERE o.id = p_org)
      AND w.week BETWEEN p_week_from AND p_week_to
      AND (p_flow = '' OR w.flow_id = p_flow)
    UNION ALL
    SELECT d.day, d.flow_id, d.credits_mc, d.quantity, d.events
    FROM usage_flow_daily d
    WHERE d.org_id = p_org AND d.gen = (SELECT o.rollup_gen FROM orgs o WHERE o.id = p_org)
      AND (d.day BETWEEN p_from AND p_days_to OR d.day BETWEEN p_days_from AND p_to)
      AND (p_flow = '' OR d.flow_id = p_flow)
$$;
