-- Counts behind section 5: dormant clients and their assets, churn events, scored clients.
-- High risk: a model's probability >= $churn_high, or the rule's level high (>= $rule_high: the rule
-- score is a rank, not a probability); rule_scored_clients and calibrated_rule_clients (the rule
-- calibrated on a fit's labels, model_version 'rule-<session>': a probability) say which scored the day.
select
    count(*) filter (where i.is_dormant) as dormant_clients,
    coalesce(sum(c.total_assets) filter (where i.is_dormant), 0) as dormant_assets,
    count(*) filter (where i.churn_event) as churn_events,
    count(i.churn_risk) as scored_clients,
    count(*) filter (where s.model_version = 'rule') as rule_scored_clients,
    count(*) filter (where s.model_version like 'rule-%') as calibrated_rule_clients,
    count(*) filter (where i.churn_risk >= case when s.model_version = 'rule' then $rule_high else $churn_high end)
        as high_risk_clients,
    coalesce(sum(c.total_assets) filter (
        where i.churn_risk >= case when s.model_version = 'rule' then $rule_high else $churn_high end), 0) as high_risk_assets,
    count(i.segment) as segmented_clients,
    $churn_high as churn_high,
    $horizon as horizon
from mart.client_indicators as i
left join mart.client_daily as c on c.as_of_date = i.as_of_date and c.client_id = i.client_id
left join mart.churn_scores as s on s.as_of_date = i.as_of_date and s.client_id = i.client_id
where i.as_of_date = $day
