-- Behavioural features of every client existing on $start .. $end, for segmentation
-- (models/segmentation.py). Windows count sessions (ref.sessions.session_idx): $lookback
-- sessions for trading behaviour and volatility, $window sessions for portfolio shape.
-- Heavy-tailed measures are log-scaled here; standardising is the model's job.
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
        d.trade_count,
        d.trade_amount,
        -- total assets of the previous session: today's minus P&L minus transfers (spec 1)
        d.total_assets - d.daily_pnl - d.net_inflow as prev_assets,
        d.daily_pnl,
        coalesce(i.concentration, 0) as concentration,
        i.cash_ratio
    from mart.client_daily as d
    inner join ref.sessions as s on d.as_of_date = s.session_date
    left join mart.client_indicators as i
        on i.as_of_date = d.as_of_date and i.client_id = d.client_id
    where s.session_idx between (select first_idx from bounds) - $lookback + 1
        and (select last_idx from bounds)
),

windowed as (
    select
        as_of_date,
        client_id,
        session_idx,
        count(*) over lookback as present_days_l,
        count(*) filter (where trade_count > 0) over lookback as active_days_l,
        sum(trade_amount) over lookback as trade_amount_l,
        sum(trade_count) over lookback as trade_count_l,
        avg(total_assets) over lookback as avg_assets_l,
        -- daily return, only where yesterday's assets make it meaningful
        stddev_samp(
            case when prev_assets >= $eligible_assets then daily_pnl / prev_assets end
        ) over lookback as pnl_volatility,
        avg(concentration) over w as avg_concentration,
        avg(cash_ratio) over w as avg_cash_ratio
    from daily
    window
        lookback as (partition by client_id order by session_idx
                     range between $lookback - 1 preceding and current row),
        w as (partition by client_id order by session_idx
              range between $window - 1 preceding and current row)
),

final as (
    select
        w.as_of_date,
        w.client_id,
        coalesce(
            i.total_assets_ok and i.days_since_last_trade <= $lookback - 1, false
        ) as eligible,
        ln(1 + coalesce(w.trade_amount_l / nullif(w.avg_assets_l, 0), 0)
            * $annual_sessions / w.present_days_l) as turnover,
        -- arcsine square root: the variance-stabilising scale of a proportion, which keeps
        -- 2 % vs 10 % of days traded as far apart as 50 % vs 65 %
        asin(sqrt(w.active_days_l / w.present_days_l)) as activity,
        w.avg_concentration as concentration,
        coalesce(w.avg_cash_ratio, 1) as cash_ratio,
        -- share of the account moved by an average trade (a large share: all-in trading)
        ln(1 + 100 * coalesce(w.trade_amount_l / nullif(w.trade_count_l, 0)
            / nullif(w.avg_assets_l, 0), 0)) as trade_size,
        ln(1 + 100 * coalesce(w.pnl_volatility, 0)) as volatility,
        w.trade_amount_l / nullif(w.trade_count_l, 0) as avg_trade_size,
        w.pnl_volatility
    from windowed as w
    inner join (
        select
            as_of_date,
            client_id,
            days_since_last_trade,
            c.total_assets >= $eligible_assets as total_assets_ok
        from mart.client_indicators
        inner join mart.client_daily as c using (as_of_date, client_id)
        where as_of_date between $start and $end
    ) as i on i.as_of_date = w.as_of_date and i.client_id = w.client_id
    where w.session_idx between (select first_idx from bounds) and (select last_idx from bounds)
)

select * from final
