-- The branch's sums over each calendar period (week .. year) touched by the sessions
-- d0 .. d1, over the period's loaded sessions up to d1 (spec 3): flows summed, stocks at
-- the last session, averages over the sessions, distinct trading clients. One definition
-- for mart.branch_period and the report's KPI periods (sql/reports/kpi_periods.sql).
--
-- like_for_like: instead, per period touched (same keys), the sums over the first k
-- calendar sessions of its previous period, k = the calendar sessions of the period up to
-- d1 (同期可比: a Wednesday's week against the previous Monday..Wednesday; all of it when
-- the previous period is shorter). Either way `calendar_sessions` is the number of exchange
-- sessions the sums should cover and `sessions` the loaded ones among them: fewer means
-- partial data. `first_session` is the first loaded one (the real start of the data).
create or replace temp macro int_branch_period_sums(d0, d1, like_for_like := false) as table
with

calendar as (
    -- every exchange session with its position in each of its periods
    select
        period_type,
        period_start,
        prev_period_start,
        session_date,
        row_number() over (partition by period_type, period_start order by session_date) as position
    from stg_session_periods()
),

touched as (
    select period_type, period_start, any_value(prev_period_start) as prev_period_start,
        count(*) filter (where session_date <= d1) as k
    from calendar
    group by all
    having bool_or(session_date between d0 and d1)
),

sessions as (
    select
        t.period_type, t.period_start, t.prev_period_start, c.session_date,
        count(*) over (partition by t.period_type, t.period_start) as calendar_sessions
    from touched as t
    inner join calendar as c
        on c.period_type = t.period_type
        and c.period_start = case when like_for_like then t.prev_period_start else t.period_start end
    where case when like_for_like then c.position <= t.k else c.session_date <= d1 end
),

days as (
    select s.period_type, s.period_start, s.prev_period_start, s.calendar_sessions, b.*
    from sessions as s
    inner join mart.branch_daily as b on b.as_of_date = s.session_date
),

-- clients with a trade in the period (to its last session up to d1): trade rows only
active as (
    select s.period_type, s.period_start, count(distinct c.client_id) as active_clients
    from sessions as s
    inner join mart.client_daily as c on c.as_of_date = s.session_date
    where c.trade_count > 0
    group by all
),

final as (
    select
        d.period_type,
        d.period_start,
        any_value(d.prev_period_start) as prev_period_start,
        max(d.as_of_date) as period_end,
        count(*) as sessions,
        any_value(d.calendar_sessions) as calendar_sessions,
        min(d.as_of_date) as first_session,
        sum(d.new_clients) as new_clients,
        sum(d.closed_clients) as closed_clients,
        sum(d.net_inflow) as net_inflow,
        sum(d.trade_count) as trade_count,
        sum(d.trade_amount) as trade_amount,
        sum(d.commission) as commission,
        sum(d.net_commission) as net_commission,
        sum(d.interest_income) as interest_income,
        sum(d.revenue) as revenue,
        sum(d.market_turnover) as market_turnover,
        arg_max(d.clients, d.as_of_date) as clients,
        arg_max(d.effective_clients, d.as_of_date) as effective_clients,
        arg_max(d.total_assets, d.as_of_date) as total_assets,
        avg(d.total_assets) as avg_total_assets,
        any_value(a.active_clients) as active_clients,
        sum(d.commission) / nullif(sum(d.trade_amount), 0) as commission_rate,
        sum(d.trade_amount) / nullif(2 * sum(d.market_turnover), 0) as market_share
    from days as d
    left join active as a on a.period_type = d.period_type and a.period_start = d.period_start
    group by d.period_type, d.period_start
)

select * from final
