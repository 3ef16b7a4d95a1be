-- Per calendar week or month (grain = 'week' | 'month') and client, over the sessions
-- d0 .. d1: flows, state at the last session and latest clients snapshot. Longer periods
-- combine these spans (int_client_period), so whole months are aggregated once and stored
-- (mart.client_month) instead of re-reading every client-day of a year at each session.
create or replace temp macro int_client_calendar(d0, d1, grain) as table
with

days as (
    select session_date, date_trunc(grain, session_date)::date as span_start
    from ref.sessions
    where session_date between d0 and d1
),

-- joined through days, not the whole table: the scan then skips other sessions' rows
indicators as (
    select i.as_of_date, i.client_id, i.churn_event, i.profitability
    from days
    inner join mart.client_windows as i on i.as_of_date = days.session_date
),

daily as (
    select
        days.span_start,
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
    left join indicators as i on i.as_of_date = c.as_of_date and i.client_id = c.client_id
),

flows as (
    select
        span_start,
        client_id,
        sum(net_inflow) as net_inflow,
        sum(trade_amount) as trade_amount,
        sum(net_commission) as net_commission,
        sum(revenue) as revenue,
        bool_or(trade_count > 0) as traded,
        bool_or(coalesce(churn_event, false)) as churned,
        max(as_of_date) as last_date,
        arg_max(total_assets, as_of_date) as last_assets,
        max(total_assets) as peak_assets,
        arg_max(profitability, as_of_date) as last_profitability
    from daily
    group by all
),

-- clients rows of the span, also of clients without a client_daily row in it: the
-- broker of a longer period is the latest snapshot over all its spans
snapshot as (
    select
        days.span_start,
        k.client_id,
        max(k.as_of_date) as snapshot_date,
        arg_max(k.broker_id, k.as_of_date) as broker_id,
        arg_max(k.open_date, k.as_of_date) as open_date
    from days
    inner join raw.clients as k on k.as_of_date = days.session_date
    group by all
),

final as (
    select *
    from flows
    full join snapshot using (span_start, client_id)
)

select * from final
