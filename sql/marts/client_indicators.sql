-- mart.client_indicators: window indicators for every client existing on $start .. $end.
-- Windows count XSHG sessions (ref.sessions.session_idx), not rows, so a client absent
-- on some sessions, or a holiday, never stretches a window. Each target day aggregates
-- the client's rows in reach (a GROUP BY, not window functions: at 200k clients this
-- is ~10x faster, measured in docs/performance.md).
with

targets as (
    select session_date as as_of_date, session_idx as t_idx
    from ref.sessions
    where session_date between $start and $end
),

-- client_daily from the lookback + 1 sessions before the first target: the previous
-- row's own churn test needs its lookback (docs/decisions.md)
daily as (
    select d.*, s.session_idx as idx
    from mart.client_daily as d
    inner join ref.sessions as s on d.as_of_date = s.session_date
    where s.session_idx between (select min(t_idx) from targets) - $lookback - 1
        and (select max(t_idx) from targets)
),

windowed as materialized (
    select
        t.as_of_date,
        t.t_idx,
        d.client_id,
        count(*) filter (where d.idx > t.t_idx - $window) as present_days,
        avg(d.total_assets) filter (where d.idx > t.t_idx - $window) as avg_assets,
        sum(d.trade_amount) filter (where d.idx > t.t_idx - $window) as trade_amount_w,
        count(*) filter (where d.idx > t.t_idx - $window and d.trade_count > 0) as active_days,
        sum(d.net_commission) filter (where d.idx > t.t_idx - $window) as net_commission_w,
        sum(d.interest_income) filter (where d.idx > t.t_idx - $window) as interest_income_w,
        sum(d.revenue) filter (where d.idx > t.t_idx - $window) as revenue_w,
        sum(d.daily_pnl) filter (where d.idx > t.t_idx - $window) as pnl_w,
        count(*) filter (where d.idx > t.t_idx - $lookback and d.trade_count > 0) as trading_days_lookback,
        max(d.total_assets) filter (where d.idx >= t.t_idx - $lookback and d.idx < t.t_idx) as peak_assets,
        -sum(d.net_inflow) filter (where d.idx >= t.t_idx - $lookback) as net_outflow,
        min(d.idx) as first_idx,
        max(d.idx) filter (where d.trade_count > 0) as last_trade_in_reach,
        max(d.idx) filter (where d.idx < t.t_idx) as prev_idx,
        -- the previous row's churn test when that row is the previous session (the rule)
        any_value(d.total_assets) filter (where d.idx = t.t_idx - 1) as prev_assets,
        max(d.total_assets) filter (where d.idx between t.t_idx - 1 - $lookback and t.t_idx - 2) as prev_peak,
        -sum(d.net_inflow) filter (where d.idx between t.t_idx - 1 - $lookback and t.t_idx - 1) as prev_outflow,
        any_value(d.total_assets) filter (where d.idx = t.t_idx) as total_assets,
        any_value(d.cash_balance) filter (where d.idx = t.t_idx) as cash_balance,
        any_value(d.market_value) filter (where d.idx = t.t_idx) as market_value,
        any_value(d.cost_amount) filter (where d.idx = t.t_idx) as cost_amount
    from targets as t
    inner join daily as d on d.idx between t.t_idx - $lookback - 1 and t.t_idx
    group by t.as_of_date, t.t_idx, d.client_id
    having max(d.idx) = t.t_idx
),

-- ... and when a client was absent on the previous session (rare): its last row's test
gap_previous as (
    select
        w.as_of_date,
        w.client_id,
        any_value(d.total_assets) filter (where d.idx = w.prev_idx) as prev_assets,
        max(d.total_assets) filter (where d.idx < w.prev_idx) as prev_peak,
        -sum(d.net_inflow) as prev_outflow
    from windowed as w
    inner join daily as d
        on d.client_id = w.client_id and d.idx between w.prev_idx - $lookback and w.prev_idx
    where w.prev_idx < w.t_idx - 1
    group by w.as_of_date, w.client_id
),

-- latest trade in the warehouse before each target's reach
earlier_trades as (
    select t.as_of_date, d.client_id, max(s.session_idx) as last_trade_idx
    from mart.client_daily as d
    inner join ref.sessions as s on d.as_of_date = s.session_date
    inner join targets as t on s.session_idx < t.t_idx - $lookback - 1
    where d.trade_count > 0 and s.session_idx < (select max(t_idx) from targets) - $lookback - 1
    group by t.as_of_date, d.client_id
),

clients as (
    select as_of_date, client_id, open_date, close_date
    from raw.clients
    where as_of_date between $start and $end
),

-- accounts closing on a loaded session (the previous row's close test needs only these)
closing as (
    select as_of_date, client_id, close_date
    from raw.clients
    where close_date = as_of_date
        and as_of_date between (select min(as_of_date) from daily) and $end
),

flagged as (
    select
        w.* exclude (prev_assets, prev_peak, prev_outflow),
        c.open_date,
        coalesce(w.last_trade_in_reach, e.last_trade_idx) as last_trade_idx,
        coalesce(c.close_date = w.as_of_date, false)
            or coalesce(
                w.total_assets < $churn_asset_share * w.peak_assets
                and w.net_outflow >= $churn_outflow_share * w.peak_assets,
                false
            ) as in_churn,
        coalesce(pc.close_date = ps.session_date, false)
            or coalesce(
                coalesce(g.prev_assets, w.prev_assets)
                    < $churn_asset_share * coalesce(g.prev_peak, w.prev_peak)
                and coalesce(g.prev_outflow, w.prev_outflow)
                    >= $churn_outflow_share * coalesce(g.prev_peak, w.prev_peak),
                false
            ) as prev_in_churn
    from windowed as w
    left join gap_previous as g on g.as_of_date = w.as_of_date and g.client_id = w.client_id
    left join ref.sessions as ps on ps.session_idx = w.prev_idx
    left join clients as c on c.as_of_date = w.as_of_date and c.client_id = w.client_id
    left join closing as pc on pc.as_of_date = ps.session_date and pc.client_id = w.client_id
    left join earlier_trades as e on e.as_of_date = w.as_of_date and e.client_id = w.client_id
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
        f.t_idx - f.last_trade_idx as days_since_last_trade,
        f.total_assets >= $effective_assets as is_effective,
        f.total_assets >= $effective_assets
            and f.first_idx <= f.t_idx - ($lookback - 1)
            and f.trading_days_lookback = 0 as is_dormant,
        f.in_churn and not f.prev_in_churn as churn_event,
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
)

select * from final
