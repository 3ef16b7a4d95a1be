-- mart.client_windows: window indicators for every client existing on $start .. $end (the
-- view mart.client_indicators adds the models' segment and churn_risk).
-- Windows count XSHG sessions (ref.sessions.session_idx), not rows, so a client absent
-- on some sessions, or a holiday, never stretches a window. A window's sums are the
-- differences of the client's running totals (mart.client_running) on D and $window or
-- $lookback sessions before: two rows per client and day, whatever the window's length.
with

running as (
    select * from int_client_running_day($start, $end)
),

windowed as (
    select
        r.as_of_date,
        r.client_id,
        r.idx as t_idx,
        r.days - coalesce(w.days, 0) as present_days,
        (r.assets - coalesce(w.assets, 0))::double / (r.days - coalesce(w.days, 0)) as avg_assets,
        (r.trade_amount - coalesce(w.trade_amount, 0))::double as trade_amount_w,
        -- the window's sums exact (DECIMAL differences), for the turnover band
        r.assets - coalesce(w.assets, 0) as assets_sum_exact,
        r.trade_amount - coalesce(w.trade_amount, 0) as trade_amount_exact,
        r.active_days - coalesce(w.active_days, 0) as active_days,
        (r.net_commission - coalesce(w.net_commission, 0))::double as net_commission_w,
        (r.interest_income - coalesce(w.interest_income, 0))::double as interest_income_w,
        (r.revenue - coalesce(w.revenue, 0))::double as revenue_w,
        (r.pnl - coalesce(w.pnl, 0))::double as pnl_w,
        r.active_days - coalesce(l.active_days, 0) as trading_days_lookback,
        r.first_idx,
        r.last_trade_idx,
        r.churn_event,
        r.total_assets,
        r.cash_balance,
        r.market_value,
        r.cost_amount
    from running as r
    left join int_client_running_back($start, $end, $window) as w
        on w.as_of_date = r.as_of_date and w.client_id = r.client_id
    left join int_client_running_back($start, $end, $lookback) as l
        on l.as_of_date = r.as_of_date and l.client_id = r.client_id
),

clients as (
    select as_of_date, client_id, open_date
    from raw.clients
    where as_of_date between $start and $end
),

holdings as (
    select * from int_client_holdings($start, $end, $trap_threshold)
),

final as (
    select
        f.as_of_date,
        f.client_id,
        f.present_days,
        f.avg_assets,
        f.trade_amount_w,
        f.trade_amount_w / nullif(f.avg_assets, 0) as turnover_rate,
        f.trade_amount_w / nullif(f.avg_assets, 0) * $annual_sessions / f.present_days
            as turnover_rate_annual,
        -- turnover_rate_annual = trade_amount_w / (assets_sum / present_days) x annual / present_days
        -- = trade_amount_w x annual / assets_sum: the bands compare that exactly (int_at_least)
        case
            when f.assets_sum_exact = 0 then null
            when int_at_least(f.trade_amount_exact * $annual_sessions, $turnover_high, f.assets_sum_exact) then 'high'
            when not int_at_least(f.trade_amount_exact * $annual_sessions, $turnover_low, f.assets_sum_exact) then 'low'
            else 'medium'
        end as turnover_band,
        f.active_days,
        f.active_days / f.present_days as activity,
        f.net_commission_w,
        f.interest_income_w,
        f.revenue_w,
        f.revenue_w / nullif(f.avg_assets, 0) * $annual_sessions / f.present_days as profitability,
        f.revenue_w / nullif(sum(f.revenue_w) over (partition by f.as_of_date), 0) as value_share,
        f.pnl_w,
        f.pnl_w / nullif(f.avg_assets, 0) as pnl_rate,
        f.market_value - f.cost_amount as unrealized_pnl,
        f.cash_balance / nullif(f.total_assets, 0) as cash_ratio,
        h.concentration,
        coalesce(h.trapped_cost / nullif(h.cost_amount, 0), 0) as trapped_ratio,
        h.trapped_loss / nullif(h.trapped_cost, 0) as trapped_depth,
        -- classes decided exactly on the money (int_at_least, int_money; docs/decisions.md)
        case
            when coalesce(h.trapped_cost, 0) = 0 then 'none'
            else int_trapped_level(h.trapped_loss, h.trapped_cost, $medium_level, $deep_level)
        end as trapped_level,
        case
            when h.cost_amount > 0 then int_at_least(h.trapped_cost, $trapped_client_ratio, h.cost_amount)
            else coalesce(h.trapped_cost / nullif(h.cost_amount, 0), 0) >= $trapped_client_ratio
        end as is_trapped,
        f.t_idx - f.last_trade_idx as days_since_last_trade,
        int_money(f.total_assets) >= int_money($effective_assets) as is_effective,
        -- effective, a first row lookback - 1 or more sessions before D (so lookback sessions
        -- of history), and no trade in the lookback sessions ending at D
        int_money(f.total_assets) >= int_money($effective_assets)
            and f.first_idx <= f.t_idx - ($lookback - 1)
            and f.trading_days_lookback = 0 as is_dormant,
        f.churn_event,
        case
            when int_money(f.total_assets) < 100000 then 'mass'
            when int_money(f.total_assets) < 500000 then 'affluent'
            when int_money(f.total_assets) < 3000000 then 'wealth'
            when int_money(f.total_assets) < 10000000 then 'hnw'
            else 'uhnw'
        end as wealth_tier,
        f.as_of_date - c.open_date as tenure_days
    from windowed as f
    left join clients as c on c.as_of_date = f.as_of_date and c.client_id = f.client_id
    left join holdings as h on h.as_of_date = f.as_of_date and h.client_id = f.client_id
)

select * from final
