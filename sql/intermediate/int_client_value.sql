-- Per session D in d0 .. d1, calendar month / quarter / year containing D, and client on D
-- (a client_windows row): its revenue r and its total_assets summed over the period's loaded
-- sessions up to D (a session without its row counts 0), its wealth tier on D, and the
-- number of those sessions (docs/spec/client-analysis.md, 1 and 2). The sums are differences
-- of the client's running totals (mart.client_running, exact DECIMAL) at D and at the last
-- session before the period: two lookups a client instead of a re-read of up to a year.
create or replace temp macro int_client_value(d0, d1) as table
with

before as (
    -- the last session before each period (int_period_before)
    select * from int_period_before(d0, d1)
),

loaded as (
    select p.as_of_date, p.period_type, count(*) as sessions
    from before as p
    inner join mart.branch_daily as l on l.as_of_date between p.period_start and p.as_of_date
    group by all
),

running as (
    -- the running totals of the sessions looked up (D and the sessions before its periods):
    -- int_running_lookup, a constant list (core.db.running_lookup says why)
    select as_of_date, client_id, revenue, assets
    from mart.client_running
    where int_running_lookup(as_of_date)
),

clients_on as (
    select w.as_of_date, w.client_id, w.wealth_tier, d.total_assets
    from mart.client_windows as w
    inner join mart.client_daily as d on d.as_of_date = w.as_of_date and d.client_id = w.client_id
    where w.as_of_date between d0 and d1
),

final as (
    select
        c.as_of_date,
        b.period_type,
        c.client_id,
        c.wealth_tier,
        c.total_assets,
        l.sessions,
        (coalesce(n.revenue, 0) - coalesce(o.revenue, 0))::double as revenue,
        (coalesce(n.assets, 0) - coalesce(o.assets, 0))::double as assets_sum
    from clients_on as c
    inner join before as b on b.as_of_date = c.as_of_date
    inner join loaded as l on l.as_of_date = b.as_of_date and l.period_type = b.period_type
    left join running as n on n.as_of_date = c.as_of_date and n.client_id = c.client_id
    left join running as o on o.as_of_date = b.before_date and o.client_id = c.client_id
)

select * from final
