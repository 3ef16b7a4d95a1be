-- Clients most likely to churn within 20 sessions (spec 2: churn_risk) on $day, with the
-- model's top reasons (mart.churn_drivers). What scored the day: a fitted model (its version;
-- churn_risk is a calibrated probability) or the rule (model_version 'rule': a rank, shown as
-- the level high / medium / low from $rule_high and $rule_medium, docs/models.md).
select
    i.client_id,
    k.client_name,
    k.phone,
    k.broker_name,
    k.team_name,
    coalesce(i.churn_risk, d.churn_risk) as churn_risk,
    s.model_version,
    case when s.model_version = 'rule' then
        case when s.churn_risk >= $rule_high then 'high' when s.churn_risk >= $rule_medium then 'medium' else 'low' end
    end as rule_level,
    d.driver_1,
    d.driver_2,
    d.driver_3,
    c.total_assets,
    c.net_inflow,
    i.days_since_last_trade,
    i.segment,
    i.wealth_tier
from mart.client_indicators as i
inner join mart.client_daily as c on c.as_of_date = i.as_of_date and c.client_id = i.client_id
left join mart.churn_drivers as d on d.as_of_date = i.as_of_date and d.client_id = i.client_id
left join mart.churn_scores as s on s.as_of_date = i.as_of_date and s.client_id = i.client_id
left join mart.client_directory as k on k.as_of_date = i.as_of_date and k.client_id = i.client_id
where i.as_of_date = $day and coalesce(i.churn_risk, d.churn_risk) is not null
order by coalesce(i.churn_risk, d.churn_risk) desc, c.total_assets desc, i.client_id
limit $top
