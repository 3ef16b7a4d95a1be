-- Per period of the listed types (touching d0 .. d1, running to d1) and client: the broker of its latest
-- clients snapshot in the period, its flows over the period and its state at the end.
create or replace macro int_client_period(d0, d1, period_types) as table
with

touched as (
    select distinct period_type, period_start
    from stg_session_periods()
    where session_date between d0 and d1 and list_contains(period_types, period_type)
),

days as (
    select p.session_date, p.period_type, p.period_start
    from stg_session_periods() as p
    semi join touched as t on t.period_type = p.period_type and t.period_start = p.period_start
    where p.session_date <= d1
),

period_end as (
    select period_type, period_start, max(d.as_of_date) as end_date
    from days
    inner join (select distinct as_of_date from mart.client_daily where as_of_date <= d1) as d
        on d.as_of_date = days.session_date
    group by all
),

daily as (
    select
        days.period_type,
        days.period_start,
        c.as_of_date,
        c.client_id,
        c.net_inflow,
        c.trade_count,
        c.trade_amount,
        c.net_commission,
        c.revenue,
        c.total_assets,
        i.churn_event,
        i.profitability
    from days
    inner join mart.client_daily as c on c.as_of_date = days.session_date
    left join mart.client_indicators as i on i.as_of_date = c.as_of_date and i.client_id = c.client_id
),

snapshot as (
    select
        days.period_type,
        days.period_start,
        k.client_id,
        arg_max(k.broker_id, k.as_of_date) as broker_id,
        arg_max(k.open_date, k.as_of_date) as open_date
    from days
    inner join raw.clients as k on k.as_of_date = days.session_date
    group by all
),

by_client as (
    select
        d.period_type,
        d.period_start,
        e.end_date,
        d.client_id,
        coalesce(s.broker_id, 'UNASSIGNED') as broker_id,
        s.open_date,
        sum(d.net_inflow) as net_inflow,
        sum(d.trade_amount) as trade_amount,
        sum(d.net_commission) as net_commission,
        sum(d.revenue) as revenue,
        bool_or(d.trade_count > 0) as traded,
        bool_or(coalesce(d.churn_event, false)) as churned,
        max(d.as_of_date) as last_date,
        arg_max(d.total_assets, d.as_of_date) as last_assets,
        arg_max(d.profitability, d.as_of_date) as last_profitability
    from daily as d
    inner join period_end as e on e.period_type = d.period_type and e.period_start = d.period_start
    left join snapshot as s
        on s.period_type = d.period_type and s.period_start = d.period_start and s.client_id = d.client_id
    group by d.period_type, d.period_start, e.end_date, d.client_id, s.broker_id, s.open_date
),

final as (
    select
        * exclude (open_date, last_date, last_assets, last_profitability),
        coalesce(open_date between period_start and end_date, false) as is_new,
        last_date = end_date as exists_at_end,
        case when last_date = end_date then last_assets end as end_assets,
        case when last_date = end_date then last_profitability end as end_profitability
    from by_client
)

select * from final
