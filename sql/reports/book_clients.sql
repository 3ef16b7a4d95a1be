-- The broker books' client rows (reports/books.py): every client of $day with its broker (the
-- clients snapshot of $day), segment, assets, window revenue, loyalty, trapped level, dormancy
-- and churn risk, for every broker at once. The risk's level: the rule's ($rule_high,
-- $rule_medium: a rank, docs/models.md) or, for a fitted model's probability, $churn_high and
-- $churn_medium; the reasons of the day's riskiest clients from mart.churn_drivers.
with

clients as (
    select as_of_date, client_id, total_assets, cash_balance, market_value
    from mart.client_daily
    where as_of_date = $day
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
    left join mart.client_indicators as i on i.as_of_date = c.as_of_date and i.client_id = c.client_id
    left join mart.churn_scores as s on s.as_of_date = c.as_of_date and s.client_id = c.client_id
    left join mart.churn_drivers as r on r.as_of_date = c.as_of_date and r.client_id = c.client_id
    left join mart.client_loyalty as l on l.as_of_date = c.as_of_date and l.client_id = c.client_id
    left join mart.client_directory as k on k.as_of_date = c.as_of_date and k.client_id = c.client_id
)

select *
from final
order by broker_id nulls last, total_assets desc, client_id
