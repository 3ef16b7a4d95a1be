-- The broker books' client rows (reports/books.py): every client of $day with its broker (the
-- clients snapshot of $day), segment, assets, window revenue, loyalty, trapped level, dormancy
-- and churn risk, for every broker at once. The risk's level: the rule's ($rule_high,
-- $rule_medium: a rank, docs/models.md) or, for a fitted model's probability, $churn_high and
-- $churn_medium; the reasons of the day's riskiest clients from mart.churn_drivers.
-- Each source is cut to $day in its own CTE and joined on client_id: joined on as_of_date
-- too, DuckDB read every session of the views (client_indicators, client_directory) first
-- (10 s at 200k clients on 21 sessions).
with

clients as (
    select client_id, total_assets, cash_balance, market_value
    from mart.client_daily
    where as_of_date = $day
),

indicators as (
    select * from mart.client_indicators where as_of_date = $day
),

scores as (
    select client_id, model_version from mart.churn_scores where as_of_date = $day
),

drivers as (
    select * from mart.churn_drivers where as_of_date = $day
),

loyalty as (
    select client_id, loyalty from mart.client_loyalty where as_of_date = $day
),

directory as (
    select client_id, client_name, broker_id from mart.client_directory where as_of_date = $day
),

final as (
    select
        c.client_id,
        k.client_name,
        k.broker_id,
        i.segment,
        c.total_assets,
        c.cash_balance,
        c.market_value,
        i.revenue_w,
        i.unrealized_pnl,
        i.trapped_ratio,
        i.trapped_level,
        i.is_trapped,
        i.is_dormant,
        i.days_since_last_trade,
        i.wealth_tier,
        l.loyalty,
        coalesce(i.churn_risk, r.churn_risk) as churn_risk,
        s.model_version = 'rule' as rule_scored,
        s.model_version like 'rule-%' as calibrated_rule,
        case
            when coalesce(i.churn_risk, r.churn_risk) is null then null
            when coalesce(i.churn_risk, r.churn_risk)
                >= case when s.model_version = 'rule' then $rule_high else $churn_high end then 'high'
            when coalesce(i.churn_risk, r.churn_risk)
                >= case when s.model_version = 'rule' then $rule_medium else $churn_medium end then 'medium'
            else 'low'
        end as risk_level,
        r.driver_1,
        r.driver_2,
        r.driver_3
    from clients as c
    left join indicators as i on i.client_id = c.client_id
    left join scores as s on s.client_id = c.client_id
    left join drivers as r on r.client_id = c.client_id
    left join loyalty as l on l.client_id = c.client_id
    left join directory as k on k.client_id = c.client_id
)

select *
from final
order by broker_id nulls last, total_assets desc, client_id
