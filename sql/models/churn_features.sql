-- Churn-model features of every client existing on $start .. $end (models/churn.py).
-- Only rows up to each day are read (windows look back, never forward). Windows count
-- sessions: $window for recent behaviour, $lookback for the peak and the longer baseline.
with

bounds as (
    select
        min(session_idx) as first_idx,
        max(session_idx) as last_idx
    from ref.sessions
    where session_date between $start and $end
),

daily as (
    select
        d.as_of_date,
        d.client_id,
        s.session_idx,
        d.total_assets,
        d.market_value,
        d.net_inflow,
        d.trade_count,
        d.trade_amount,
        coalesce(i.churn_event, false) as churn_event
    from mart.client_daily as d
    inner join ref.sessions as s on d.as_of_date = s.session_date
    left join mart.client_indicators as i
        on i.as_of_date = d.as_of_date and i.client_id = d.client_id
    where s.session_idx between (select first_idx from bounds) - $lookback
        and (select last_idx from bounds)
),

windowed as (
    select
        as_of_date,
        client_id,
        session_idx,
        total_assets,
        market_value,
        max(total_assets) over lookback as peak_assets,
        -sum(net_inflow) over w as net_outflow_w,
        -sum(net_inflow) over lookback as net_outflow_l,
        count(*) filter (where net_inflow < 0) over w as withdraw_days_w,
        count(*) filter (where trade_count > 0) over recent / count(*) over recent as activity_5,
        count(*) filter (where trade_count > 0) over w / count(*) over w as activity_w,
        count(*) filter (where trade_count > 0) over lookback / count(*) over lookback as activity_l,
        sum(trade_amount) over w as trade_amount_w,
        sum(trade_amount) over lookback as trade_amount_l,
        count(*) over lookback as present_days_l,
        max(total_assets) over month_ago as assets_month_ago,
        max(market_value) over month_ago as market_value_month_ago,
        bool_or(churn_event) over lookback as churned_recently
    from daily
    window
        recent as (partition by client_id order by session_idx
                   range between 4 preceding and current row),
        w as (partition by client_id order by session_idx
              range between $window - 1 preceding and current row),
        lookback as (partition by client_id order by session_idx
                     range between $lookback - 1 preceding and current row),
        month_ago as (partition by client_id order by session_idx
                      range between $window preceding and $window preceding)
),

final as (
    select
        w.as_of_date,
        w.client_id,
        w.total_assets,
        ln(1 + greatest(w.total_assets, 0)) as log_assets,
        coalesce(w.total_assets / nullif(w.peak_assets, 0), 1) as assets_to_peak,
        coalesce(w.net_outflow_w / nullif(w.peak_assets, 0), 0) as net_outflow_share_w,
        coalesce(w.net_outflow_l / nullif(w.peak_assets, 0), 0) as net_outflow_share_l,
        w.withdraw_days_w,
        w.activity_5,
        w.activity_w,
        w.activity_l,
        -- recent trading against the longer baseline (per session), in log units
        ln(1 + w.trade_amount_w / least(w.present_days_l, $window))
            - ln(1 + w.trade_amount_l / w.present_days_l) as trade_trend,
        ln(1 + greatest(w.total_assets, 0)) - ln(1 + coalesce(w.assets_month_ago, w.total_assets))
            as assets_change_w,
        ln(1 + w.market_value) - ln(1 + coalesce(w.market_value_month_ago, w.market_value))
            as market_value_change_w,
        least(coalesce(i.days_since_last_trade, $lookback * 4), $lookback * 4) as days_since_last_trade,
        (i.days_since_last_trade is null)::int as never_traded,
        coalesce(i.cash_ratio, 1) as cash_ratio,
        coalesce(i.concentration, 0) as concentration,
        i.trapped_ratio,
        greatest(least(coalesce(i.pnl_rate, 0), 1), -1) as pnl_rate,
        ln(1 + greatest(coalesce(i.tenure_days, 0), 0)) as log_tenure,
        w.present_days_l / $lookback as history_share,
        w.churned_recently::int as churned_recently
    from windowed as w
    inner join mart.client_indicators as i
        on i.as_of_date = w.as_of_date and i.client_id = w.client_id
    where w.session_idx between (select first_idx from bounds) and (select last_idx from bounds)
)

select * from final
