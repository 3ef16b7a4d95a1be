-- What kpi_periods.sql computes, read from mart.branch_period: each calendar period
-- containing $day when the mart holds it to $day (as in the report of a run's last
-- session), and the previous period of each type in full. No row unless all five run to
-- $day: the report then recomputes them.
with

ranges as (
    select * from stg_session_periods_of_day($day)
),

stored as (
    select
        r.period_type,
        r.ord,
        r.which,
        r.d0,
        p.period_end,
        coalesce(p.sessions, 0) as sessions,
        p.calendar_sessions,
        p.first_session,
        p.new_clients,
        p.closed_clients,
        p.net_inflow,
        p.trade_count,
        p.trade_amount,
        p.commission,
        p.net_commission,
        p.interest_income,
        p.revenue,
        p.market_turnover,
        p.clients,
        p.effective_clients,
        p.total_assets,
        p.avg_total_assets,
        p.commission_rate,
        p.market_share,
        p.active_clients
    from ranges as r
    left join mart.branch_period as p on p.period_type = r.period_type and p.period_start = r.d0
)

select *
from stored
where (select count(*) from stored where which = 'cur' and period_end = $day) = 5
order by ord, which
