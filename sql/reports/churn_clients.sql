-- Clients most likely to churn within 20 sessions (spec 2: churn_risk) on $day, with the
-- model's top reasons (mart.churn_drivers). What scored the day: a fitted model (its version;
-- churn_risk is a calibrated probability) or the rule (model_version 'rule': a rank, shown as
-- the level high / medium / low from $rule_high and $rule_medium, docs/models.md).
-- The top $top are chosen on the scores alone, then joined to what the list shows (joining every
-- client of the day to the directory first cost ~0.3 s at 200k clients).
with

ranked as (
    select w.client_id, coalesce(s.churn_risk, d.churn_risk) as churn_risk, c.total_assets
    from mart.client_windows as w
    inner join mart.client_daily as c on c.as_of_date = w.as_of_date and c.client_id = w.client_id
    left join mart.churn_scores as s on s.as_of_date = w.as_of_date and s.client_id = w.client_id
    left join mart.churn_drivers as d on d.as_of_date = w.as_of_date and d.client_id = w.client_id
    where w.as_of_date = $day and coalesce(s.churn_risk, d.churn_risk) is not null
    order by 2 desc, 3 desc, 1
    limit $top
),

final as (
    select
        r.client_id,
        k.client_name,
        k.phone,
        k.broker_name,
        k.team_name,
        r.churn_risk,
        s.model_version,
        case when s.model_version = 'rule' then
            case when s.churn_risk >= $rule_high then 'high' when s.churn_risk >= $rule_medium then 'medium' else 'low' end
        end as rule_level,
        d.driver_1,
        d.driver_2,
        d.driver_3,
        r.total_assets,
        c.net_inflow,
        w.days_since_last_trade,
        g.segment,
        w.wealth_tier
    from ranked as r
    inner join mart.client_windows as w on w.as_of_date = $day and w.client_id = r.client_id
    inner join mart.client_daily as c on c.as_of_date = $day and c.client_id = r.client_id
    left join mart.client_segments as g on g.as_of_date = $day and g.client_id = r.client_id
    left join mart.churn_drivers as d on d.as_of_date = $day and d.client_id = r.client_id
    left join mart.churn_scores as s on s.as_of_date = $day and s.client_id = r.client_id
    left join mart.client_directory as k on k.as_of_date = $day and k.client_id = r.client_id
)

select * from final
order by churn_risk desc, total_assets desc, client_id
