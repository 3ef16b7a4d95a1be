-- mart.client_daily: one row per client with a cash row on the session ($start .. $end).
with

days as (
    select session_date as as_of_date, prev_session, next_session
    from ref.sessions
    where session_date between $start and $end
),

first_prev as (
    select min(prev_session) as d0 from days
),

-- total assets for the range and the session before it (for daily_pnl)
assets as (
    select
        c.as_of_date,
        c.client_id,
        coalesce(h.market_value, 0) as market_value,
        coalesce(h.cost_amount, 0) as cost_amount,
        c.cash_balance,
        c.cash_balance + coalesce(h.market_value, 0) as total_assets,
        c.deposit_amount - c.withdraw_amount as net_inflow
    from raw.cash as c
    left join int_client_holdings(
        (select d0 from first_prev), $end, $trap_threshold
    ) as h
        on c.as_of_date = h.as_of_date and c.client_id = h.client_id
    where c.as_of_date between coalesce((select d0 from first_prev), $start) and $end
),

trades as (
    select * from int_client_trades($start, $end)
),

final as (
    select
        a.as_of_date,
        a.client_id,
        a.market_value,
        a.cost_amount,
        a.cash_balance,
        a.total_assets,
        a.net_inflow,
        coalesce(t.trade_count, 0) as trade_count,
        coalesce(t.trade_amount, 0) as trade_amount,
        coalesce(t.commission, 0) as commission,
        coalesce(t.exchange_fee, 0) as exchange_fee,
        coalesce(t.commission, 0) - coalesce(t.exchange_fee, 0) as net_commission,
        a.cash_balance * $cash_spread_rate * (d.next_session - d.as_of_date) / 360 as interest_income,
        coalesce(t.commission, 0) - coalesce(t.exchange_fee, 0)
            + a.cash_balance * $cash_spread_rate * (d.next_session - d.as_of_date) / 360 as revenue,
        case
            when cl.open_date = a.as_of_date then a.total_assets - a.net_inflow
            when p.client_id is null then 0
            else a.total_assets - p.total_assets - a.net_inflow
        end as daily_pnl
    from assets as a
    inner join days as d on a.as_of_date = d.as_of_date
    left join assets as p on p.as_of_date = d.prev_session and p.client_id = a.client_id
    left join raw.clients as cl on cl.as_of_date = a.as_of_date and cl.client_id = a.client_id
    left join trades as t on t.as_of_date = a.as_of_date and t.client_id = a.client_id
)

select * from final
