-- mart.client_indicators: window indicators for every client existing on $start .. $end.
-- Windows count XSHG sessions (ref.sessions.session_idx), not rows, so a client absent
-- on some sessions, or a holiday, never stretches a window.
with

bounds as (
    select
        min(session_idx) as first_idx,
        max(session_idx) as last_idx,
        -- churn on the previous row (normally the session before $start) needs that
        -- row's own lookback; a client absent for sessions before $start is read with
        -- what the window holds (docs/indicators.md, "decisions")
        min(session_idx) - $lookback - 1 as load_idx
    from ref.sessions
    where session_date between $start and $end
),

daily as (
    select d.*, s.session_idx
    from mart.client_daily as d
    inner join ref.sessions as s on d.as_of_date = s.session_date
    where s.session_idx between (select load_idx from bounds) and (select last_idx from bounds)
),

clients as (
    select as_of_date, client_id, open_date, close_date
    from raw.clients
    where as_of_date between (select min(as_of_date) from daily) and $end
),

-- latest trade before the loaded rows, for clients quiet over the whole lookback
earlier_trades as (
    select d.client_id, max(s.session_idx) as last_trade_idx
    from mart.client_daily as d
    inner join ref.sessions as s on d.as_of_date = s.session_date
    where d.trade_count > 0 and s.session_idx < (select load_idx from bounds)
    group by d.client_id
),

windowed as (
    select
        d.*,
        count(*) over w as present_days,
        avg(total_assets) over w as avg_assets,
        sum(trade_amount) over w as trade_amount_w,
        count(*) filter (where trade_count > 0) over w as active_days,
        sum(net_commission) over w as net_commission_w,
        sum(interest_income) over w as interest_income_w,
        sum(revenue) over w as revenue_w,
        sum(daily_pnl) over w as pnl_w,
        count(*) filter (where trade_count > 0) over lookback as trading_days_lookback,
        max(total_assets) over before as peak_assets,
        -sum(net_inflow) over lookback_and_day as net_outflow,
        min(session_idx) over history as first_idx,
        max(case when trade_count > 0 then session_idx end) over history as last_trade_idx
    from daily as d
    window
        w as (partition by client_id order by session_idx
              range between $window - 1 preceding and current row),
        lookback as (partition by client_id order by session_idx
                     range between $lookback - 1 preceding and current row),
        before as (partition by client_id order by session_idx
                   range between $lookback preceding and 1 preceding),
        lookback_and_day as (partition by client_id order by session_idx
                             range between $lookback preceding and current row),
        history as (partition by client_id order by session_idx
                    rows between unbounded preceding and current row)
),

churn as (
    select
        w.*,
        c.open_date,
        coalesce(c.close_date = w.as_of_date, false)
            or coalesce(
                w.total_assets < $churn_asset_share * w.peak_assets
                and w.net_outflow >= $churn_outflow_share * w.peak_assets,
                false
            ) as in_churn
    from windowed as w
    left join clients as c on c.as_of_date = w.as_of_date and c.client_id = w.client_id
),

flagged as (
    select
        *,
        in_churn and not coalesce(
            lag(in_churn) over (partition by client_id order by session_idx), false
        ) as churn_event
    from churn
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
        case
            when f.avg_assets = 0 then null
            when f.trade_amount_w / f.avg_assets * $annual_sessions / f.present_days >= $turnover_high then 'high'
            when f.trade_amount_w / f.avg_assets * $annual_sessions / f.present_days < $turnover_low then 'low'
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
        case
            when coalesce(h.trapped_cost, 0) = 0 then 'none'
            when h.trapped_loss / h.trapped_cost >= $deep_level then 'deep'
            when h.trapped_loss / h.trapped_cost >= $medium_level then 'medium'
            else 'light'
        end as trapped_level,
        coalesce(h.trapped_cost / nullif(h.cost_amount, 0), 0) >= $trapped_client_ratio as is_trapped,
        f.session_idx - coalesce(f.last_trade_idx, e.last_trade_idx) as days_since_last_trade,
        f.total_assets >= $effective_assets as is_effective,
        f.total_assets >= $effective_assets
            and f.first_idx <= f.session_idx - ($lookback - 1)
            and f.trading_days_lookback = 0 as is_dormant,
        f.churn_event,
        case
            when f.total_assets < 100000 then 'mass'
            when f.total_assets < 500000 then 'affluent'
            when f.total_assets < 3000000 then 'wealth'
            when f.total_assets < 10000000 then 'hnw'
            else 'uhnw'
        end as wealth_tier,
        f.as_of_date - f.open_date as tenure_days,
        null::varchar as segment,
        null::double as churn_risk
    from flagged as f
    left join holdings as h on h.as_of_date = f.as_of_date and h.client_id = f.client_id
    left join earlier_trades as e on e.client_id = f.client_id
    where f.as_of_date between $start and $end
)

select * from final
