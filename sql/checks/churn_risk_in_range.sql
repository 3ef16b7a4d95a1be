-- Clients of the checked sessions without a churn_risk in [0, 1] (or without a row).
with

scores as (
    select as_of_date, client_id, churn_risk
    from mart.churn_scores
    where as_of_date between $start and $end
)

select w.as_of_date, w.client_id, c.churn_risk
from mart.client_windows as w
left join scores as c using (as_of_date, client_id)
where w.as_of_date between $start and $end
    and (c.churn_risk is null or c.churn_risk < 0 or c.churn_risk > 1)
