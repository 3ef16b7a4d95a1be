-- The main indicators of every client on $start .. $end, for mart.indicator_correlation
-- (models/correlation.py ranks them and correlates every pair per day).
with

final as (
    select
        as_of_date,
        client_id,
        w.avg_assets,
        turnover_rate_annual,
        activity,
        profitability,
        pnl_rate,
        cash_ratio,
        concentration,
        trapped_ratio,
        days_since_last_trade::double as days_since_last_trade,
        tenure_days::double as tenure_days,
        c.churn_risk
    from mart.client_windows as w
    inner join mart.churn_scores as c using (as_of_date, client_id)
    where w.as_of_date between $start and $end and c.as_of_date between $start and $end
)

select * from final
