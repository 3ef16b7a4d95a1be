-- Branch KPIs of each calendar period containing $day, to $day (not to the period's
-- latest loaded session, which mart.branch_period holds), and of the previous period of
-- the same type in full. Same measures as mart.branch_period (spec 3).
with

-- the calendar periods containing $day, from the marts' own period model
ranges as (
    select * from stg_session_periods_of_day($day)
),

daily as (
    select
        r.period_type,
        r.ord,
        r.which,
        r.d0,
        max(b.as_of_date) as period_end,
        count(b.as_of_date) as sessions,
        sum(b.new_clients) as new_clients,
        sum(b.closed_clients) as closed_clients,
        sum(b.net_inflow) as net_inflow,
        sum(b.trade_count) as trade_count,
        sum(b.trade_amount) as trade_amount,
        sum(b.commission) as commission,
        sum(b.net_commission) as net_commission,
        sum(b.interest_income) as interest_income,
        sum(b.revenue) as revenue,
        sum(b.market_turnover) as market_turnover,
        arg_max(b.clients, b.as_of_date) as clients,
        arg_max(b.effective_clients, b.as_of_date) as effective_clients,
        arg_max(b.total_assets, b.as_of_date) as total_assets,
        avg(b.total_assets) as avg_total_assets,
        sum(b.commission) / nullif(sum(b.trade_amount), 0) as commission_rate,
        sum(b.trade_amount) / nullif(2 * sum(b.market_turnover), 0) as market_share
    from ranges as r
    left join mart.branch_daily as b on b.as_of_date between r.d0 and r.d1
    group by r.period_type, r.ord, r.which, r.d0
),

traders as (
    select distinct as_of_date, client_id
    from mart.client_daily
    where trade_count > 0
        and as_of_date between (select min(d0) from ranges) and $day
),

active as (
    select r.period_type, r.which, count(distinct t.client_id) as active_clients
    from ranges as r
    inner join traders as t on t.as_of_date between r.d0 and r.d1
    group by all
)

select
    d.*,
    case when d.sessions > 0 then coalesce(a.active_clients, 0) end as active_clients
from daily as d
left join active as a on a.period_type = d.period_type and a.which = d.which
order by d.ord, d.which
