-- Per period of the listed types (touching d0 .. d1, running to d1) and client: the broker of its latest
-- clients snapshot in the period, its flows over the period and its state at the end.
-- Weeks are read from client_daily (<= 5 sessions). Longer periods combine their months
-- as stored in mart.client_month, so a session costs one month of client-days, not a year:
-- d1's month is read from client_daily to d1 instead when a loaded session of it comes
-- after d1, and so is any month the store does not hold as loaded (int_client_month_status).
-- Sums add, flags or, and latest values come from the latest month that has one (arg_max
-- skips nulls, as it does within a month): the same result as one pass over the client-days.
create or replace temp macro int_client_period(d0, d1, period_types) as table
with

touched as (
    select distinct period_type, period_start
    from stg_session_periods()
    where session_date between d0 and d1 and list_contains(period_types, period_type)
),

-- the last loaded session of each touched period, up to d1
period_end as (
    select p.period_type, p.period_start, max(d.as_of_date) as end_date
    from stg_session_periods() as p
    semi join touched as t on t.period_type = p.period_type and t.period_start = p.period_start
    inner join (
        select distinct as_of_date
        from mart.client_daily
        where as_of_date between least(date_trunc('year', d0), date_trunc('week', d0))::date and d1
    ) as d on d.as_of_date = p.session_date
    group by all
),

-- months of the touched periods other than weeks, with a session up to d1
period_months as (
    select distinct p.period_type, p.period_start, date_trunc('month', p.session_date)::date as month_start
    from stg_session_periods() as p
    semi join touched as t on t.period_type = p.period_type and t.period_start = p.period_start
    where p.period_type <> 'week' and p.session_date <= d1
),

month_source as (
    select
        m.month_start,
        s.stored_to is not distinct from s.loaded_to
            and (m.month_start < date_trunc('month', d1)::date or coalesce(s.loaded_to <= d1, true)) as stored
    from (select distinct month_start from period_months) as m
    left join int_client_month_status(date_trunc('year', d0)::date, d1) as s on s.month_start = m.month_start
),

months as (
    select c.*
    from mart.client_month as c
    semi join month_source as s on s.month_start = c.month_start and s.stored
    union all by name
    select l.* rename (span_start as month_start)
    from int_client_calendar(
        (select min(month_start) from month_source where not stored), d1, 'month'
    ) as l
    semi join month_source as s on s.month_start = l.span_start and not s.stored
),

spans as (
    select t.period_type, t.period_start, w.* exclude (span_start)
    from int_client_calendar(
        case when list_contains(period_types, 'week') then date_trunc('week', d0)::date end, d1, 'week'
    ) as w
    inner join touched as t on t.period_type = 'week' and t.period_start = w.span_start
    union all by name
    select p.period_type, p.period_start, m.* exclude (month_start)
    from months as m
    inner join period_months as p on p.month_start = m.month_start
),

by_client as (
    select
        period_type,
        period_start,
        client_id,
        coalesce(arg_max(broker_id, snapshot_date), 'UNASSIGNED') as broker_id,
        arg_max(open_date, snapshot_date) as open_date,
        sum(net_inflow) as net_inflow,
        sum(trade_amount) as trade_amount,
        sum(net_commission) as net_commission,
        sum(revenue) as revenue,
        bool_or(traded) as traded,
        bool_or(churned) as churned,
        max(last_date) as last_date,
        arg_max(last_assets, last_date) as last_assets,
        arg_max(last_profitability, last_date) as last_profitability
    from spans
    group by period_type, period_start, client_id
    having max(last_date) is not null  -- clients with a client_daily row in the period
),

final as (
    select
        c.period_type,
        c.period_start,
        e.end_date,
        c.client_id,
        c.broker_id,
        c.net_inflow,
        c.trade_amount,
        c.net_commission,
        c.revenue,
        c.traded,
        c.churned,
        coalesce(c.open_date between c.period_start and e.end_date, false) as is_new,
        c.last_date = e.end_date as exists_at_end,
        case when c.last_date = e.end_date then c.last_assets end as end_assets,
        case when c.last_date = e.end_date then c.last_profitability end as end_profitability
    from by_client as c
    inner join period_end as e on e.period_type = c.period_type and e.period_start = c.period_start
)

select * from final
