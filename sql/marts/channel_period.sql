-- mart.channel_period: per calendar period touching $start .. $end (as branch_period) and
-- trading channel, the period's trades over its loaded sessions up to $end
-- (docs/spec/client-analysis.md, 5). A trade without a channel counts as `unknown`. Weeks
-- read their trades; longer periods add up mart.client_channel_month (per client, so that
-- `clients` counts each client once per period).
with

touched as (
    select distinct period_type, period_start
    from stg_session_periods()
    where session_date between $start and $end
),

sessions as (
    select p.period_type, p.period_start, p.session_date
    from stg_session_periods() as p
    inner join touched as t on t.period_type = p.period_type and t.period_start = p.period_start
    inner join mart.branch_daily as b on b.as_of_date = p.session_date
    where p.session_date <= $end
),

ends as (
    select period_type, period_start, max(session_date) as period_end
    from sessions
    group by all
),

week_rows as (
    select
        s.period_type,
        s.period_start,
        t.client_id,
        coalesce(t.channel, 'unknown') as channel,
        count(*) as trade_count,
        sum(t.amount) as trade_amount,
        sum(t.commission) as commission,
        sum(t.commission - t.exchange_fee) as net_commission
    from raw.trades as t
    inner join sessions as s on s.session_date = t.as_of_date and s.period_type = 'week'
    group by all
),

month_rows as (
    select e.period_type, e.period_start, m.* exclude (month_start)
    from ends as e
    inner join mart.client_channel_month as m
        on m.month_start between e.period_start and e.period_end
    where e.period_type <> 'week'
),

channels as (
    select
        period_type,
        period_start,
        channel,
        sum(trade_count) as trade_count,
        sum(trade_amount) as trade_amount,
        sum(commission) as commission,
        sum(net_commission) as net_commission,
        count(distinct client_id) as clients
    from (select * from week_rows union all by name select * from month_rows)
    group by all
),

final as (
    select
        c.period_type,
        c.period_start,
        e.period_end,
        c.channel,
        c.trade_count::bigint as trade_count,
        c.trade_amount,
        c.commission,
        c.net_commission,
        c.clients,
        c.trade_amount / nullif(sum(c.trade_amount) over (partition by c.period_type, c.period_start), 0)
            as amount_share
    from channels as c
    inner join ends as e on e.period_type = c.period_type and e.period_start = c.period_start
)

select * from final
