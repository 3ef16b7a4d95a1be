-- Which of the client-analysis tables (docs/spec/client-analysis.md) the warehouse has: a
-- warehouse written before they existed, opened read-only, lacks them and the report's
-- client-analysis section then says so instead of failing (the tables beyond the page: their
-- parts are left out).
select table_name
from information_schema.tables
where table_schema = 'mart'
    and table_name in ('value_by_tier', 'value_concentration', 'attribute_profile', 'attribute_association',
                       'channel_period', 'client_flow', 'coholding', 'client_running',
                       'loyalty_distribution', 'loyalty_movers', 'client_habits', 'trapped_industries',
                       'flow_projection')
order by table_name
