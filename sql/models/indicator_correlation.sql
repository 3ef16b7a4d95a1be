-- mart.indicator_correlation for $start .. $end: Spearman correlation of every pair of the
-- main indicators per day, over the clients where both are defined. Spearman = Pearson
-- correlation of ranks; ties take their average rank.
with

indicators as (
    select * from (values
        (1, 'avg_assets'), (2, 'turnover_rate_annual'), (3, 'activity'), (4, 'profitability'),
        (5, 'pnl_rate'), (6, 'cash_ratio'), (7, 'concentration'), (8, 'trapped_ratio'),
        (9, 'days_since_last_trade'), (10, 'tenure_days'), (11, 'churn_risk')
    ) as t (ord, indicator)
),

wide as (
    select
        as_of_date,
        client_id,
        avg_assets,
        turnover_rate_annual,
        activity,
        profitability,
        pnl_rate,
        cash_ratio,
        concentration,
        trapped_ratio,
        days_since_last_trade::double as days_since_last_trade,
        tenure_days::double as tenure_days,
        churn_risk
    from mart.client_indicators
    where as_of_date between $start and $end
),

long as (
    select u.as_of_date, u.client_id, n.ord, u.indicator, u.value
    from (
        unpivot wide
        on avg_assets, turnover_rate_annual, activity, profitability, pnl_rate, cash_ratio,
            concentration, trapped_ratio, days_since_last_trade, tenure_days, churn_risk
        into name indicator value value
    ) as u
    inner join indicators as n on n.indicator = u.indicator
    where isfinite(u.value)
),

pairs as (
    select
        a.as_of_date,
        a.indicator as indicator_a,
        b.indicator as indicator_b,
        a.value as value_a,
        b.value as value_b
    from long as a
    inner join long as b
        on a.as_of_date = b.as_of_date and a.client_id = b.client_id and a.ord < b.ord
),

ranked as (
    select
        as_of_date,
        indicator_a,
        indicator_b,
        rank() over (partition by as_of_date, indicator_a, indicator_b order by value_a)
            + (count(*) over (partition by as_of_date, indicator_a, indicator_b, value_a) - 1) / 2
            as rank_a,
        rank() over (partition by as_of_date, indicator_a, indicator_b order by value_b)
            + (count(*) over (partition by as_of_date, indicator_a, indicator_b, value_b) - 1) / 2
            as rank_b
    from pairs
),

final as (
    select
        as_of_date,
        indicator_a,
        indicator_b,
        corr(rank_a, rank_b) as spearman,
        count(*) as clients
    from ranked
    group by as_of_date, indicator_a, indicator_b
)

select * from final
