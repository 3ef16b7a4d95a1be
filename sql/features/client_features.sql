-- mart.client_features: the models' inputs for every client existing on $start .. $end
-- (models/segmentation.py, models/churn.py). Computed once per session and stored: the
-- day's scoring reads one session of it, a churn fit reads up to a year of it.
-- Windows count sessions like client_windows: $window for recent behaviour and
-- portfolio shape, $lookback for trading behaviour, the peak and the longer baseline.
-- Window sums are differences of the clients' running totals (mart.client_running), which
-- also holds the lookback's peak. Heavy-tailed measures are log-scaled here; standardising
-- is the models' job.
with

targets as (
    select session_date as as_of_date, session_idx as t_idx
    from ref.sessions
    where session_date between $start and $end
),

-- each target with the sessions of its window
reach as (
    select t.as_of_date, s.session_date
    from targets as t
    inner join ref.sessions as s on s.session_idx between t.t_idx - $window + 1 and t.t_idx
),

running as (
    select * from int_client_running_day($start, $end)
),

sums as (
    select
        r.as_of_date,
        r.client_id,
        r.idx as t_idx,
        r.total_assets,
        r.market_value,
        r.cost_amount,
        r.last_churn_idx,
        r.peak_assets,
        r.days - coalesce(l.days, 0) as present_days_l,
        r.active_days - coalesce(l.active_days, 0) as active_days_l,
        r.days - coalesce(w.days, 0) as present_days_w,
        r.active_days - coalesce(w.active_days, 0) as active_days_w,
        r.days - coalesce(f.days, 0) as present_days_5,
        r.active_days - coalesce(f.active_days, 0) as active_days_5,
        (r.trade_amount - coalesce(l.trade_amount, 0))::double as trade_amount_l,
        (r.trade_amount - coalesce(w.trade_amount, 0))::double as trade_amount_w,
        r.trade_count - coalesce(l.trade_count, 0) as trade_count_l,
        (r.assets - coalesce(l.assets, 0))::double / (r.days - coalesce(l.days, 0)) as avg_assets_l,
        (r.outflow - coalesce(l.outflow, 0))::double as net_outflow_l,
        (r.outflow - coalesce(w.outflow, 0))::double as net_outflow_w,
        r.withdraw_days - coalesce(w.withdraw_days, 0) as withdraw_days_w,
        r.withdraw_days - coalesce(l.withdraw_days, 0) as withdraw_days_l,
        r.ret_days - coalesce(l.ret_days, 0) as ret_days_l,
        r.ret - coalesce(l.ret, 0) as ret_l,
        r.ret_sq - coalesce(l.ret_sq, 0) as ret_sq_l,
        -- client_windows.cash_ratio of each day, averaged over the window
        (r.cash_ratio - coalesce(w.cash_ratio, 0))
            / nullif(r.cash_ratio_days - coalesce(w.cash_ratio_days, 0), 0) as avg_cash_ratio
    from running as r
    left join int_client_running_back($start, $end, 5) as f
        on f.as_of_date = r.as_of_date and f.client_id = r.client_id
    left join int_client_running_back($start, $end, $window) as w
        on w.as_of_date = r.as_of_date and w.client_id = r.client_id
    left join int_client_running_back($start, $end, $lookback) as l
        on l.as_of_date = r.as_of_date and l.client_id = r.client_id
),

month_ago as (
    select t.as_of_date, d.client_id, d.total_assets, d.market_value, d.cost_amount
    from targets as t
    inner join ref.sessions as b on b.session_idx = t.t_idx - $window
    inner join mart.client_daily as d on d.as_of_date = b.session_date
),

windowed as (
    select
        s.*,
        -- sample SD of the daily returns, from their sum and sum of squares
        case when s.ret_days_l >= 2 then sqrt(greatest(
            (s.ret_sq_l - s.ret_l * s.ret_l / s.ret_days_l) / (s.ret_days_l - 1), 0)) end as pnl_volatility,
        m.total_assets as assets_month_ago,
        m.market_value as market_value_month_ago,
        m.cost_amount as cost_month_ago
    from sums as s
    left join month_ago as m on m.as_of_date = s.as_of_date and m.client_id = s.client_id
),

-- the window measure that needs client_windows (an equi-join on the session date: DuckDB
-- then skips to the window's sessions; a range filter on the date would not)
concentration as (
    select t.as_of_date, i.client_id, avg(coalesce(i.concentration, 0)) as avg_concentration
    from reach as t
    inner join mart.client_windows as i on i.as_of_date = t.session_date
    group by t.as_of_date, i.client_id
),

indicators as (
    select i.*
    from targets as t
    inner join mart.client_windows as i on i.as_of_date = t.as_of_date
),

final as (
    select
        w.as_of_date,
        w.client_id,
        -- segmentation (models/segmentation.py FEATURES, prefixed seg_)
        coalesce(int_money(w.total_assets) >= int_money($eligible_assets)
            and i.days_since_last_trade <= $lookback - 1, false)
            as eligible,
        ln(1 + coalesce(w.trade_amount_l / nullif(w.avg_assets_l, 0), 0)
            * $annual_sessions / w.present_days_l) as seg_turnover,
        -- arcsine square root: the variance-stabilising scale of a proportion, which keeps
        -- 2 % vs 10 % of days traded as far apart as 50 % vs 65 %
        asin(sqrt(w.active_days_l / w.present_days_l)) as seg_activity,
        c.avg_concentration as seg_concentration,
        coalesce(w.avg_cash_ratio, 1) as seg_cash_ratio,
        -- share of the account moved by an average trade (a large share: all-in trading)
        ln(1 + 100 * coalesce(w.trade_amount_l / nullif(w.trade_count_l, 0)
            / nullif(w.avg_assets_l, 0), 0)) as seg_trade_size,
        ln(1 + 100 * coalesce(w.pnl_volatility, 0)) as seg_volatility,
        w.trade_amount_l / nullif(w.trade_count_l, 0) as avg_trade_size,
        w.pnl_volatility,
        -- churn (models/churn.py FEATURES)
        w.total_assets,
        ln(1 + greatest(w.total_assets, 0)) as log_assets,
        coalesce(w.total_assets / nullif(w.peak_assets, 0), 1) as assets_to_peak,
        coalesce(w.net_outflow_w / nullif(w.peak_assets, 0), 0) as net_outflow_share_w,
        coalesce(w.net_outflow_l / nullif(w.peak_assets, 0), 0) as net_outflow_share_l,
        w.withdraw_days_w,
        w.active_days_5 / w.present_days_5 as activity_5,
        w.active_days_w / w.present_days_w as activity_w,
        w.active_days_l / w.present_days_l as activity_l,
        -- recent trading against the longer baseline (per session), in log units
        ln(1 + w.trade_amount_w / least(w.present_days_l, $window))
            - ln(1 + w.trade_amount_l / w.present_days_l) as trade_trend,
        ln(1 + greatest(w.total_assets, 0)) - ln(1 + coalesce(w.assets_month_ago, w.total_assets))
            as assets_change_w,
        ln(1 + w.market_value) - ln(1 + coalesce(w.market_value_month_ago, w.market_value))
            as market_value_change_w,
        -- the holdings at cost against $window sessions ago: positions sold or moved out,
        -- whatever the market did (the churn rule's liquidation)
        ln(1 + w.cost_amount) - ln(1 + coalesce(w.cost_month_ago, w.cost_amount)) as holdings_cost_change_w,
        w.withdraw_days_l,
        w.active_days_5,
        w.present_days_5,
        w.active_days_l,
        w.present_days_l,
        least(coalesce(i.days_since_last_trade, $lookback * 4), $lookback * 4) as days_since_last_trade,
        (i.days_since_last_trade is null)::int as never_traded,
        coalesce(i.cash_ratio, 1) as cash_ratio,
        coalesce(i.concentration, 0) as concentration,
        i.trapped_ratio,
        greatest(least(coalesce(i.pnl_rate, 0), 1), -1) as pnl_rate,
        ln(1 + greatest(coalesce(i.tenure_days, 0), 0)) as log_tenure,
        w.present_days_l / $lookback as history_share,
        coalesce(w.last_churn_idx > w.t_idx - $lookback, false)::int as churned_recently
    from windowed as w
    inner join indicators as i on i.as_of_date = w.as_of_date and i.client_id = w.client_id
    left join concentration as c on c.as_of_date = w.as_of_date and c.client_id = w.client_id
)

select * from final
