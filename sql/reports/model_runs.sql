-- The latest run of each model up to $day (every metric row of that run).
select model, version, run_at, as_of_date, train_start, train_end, rows_train,
    metric_name, metric_value, note
from mart.model_runs
where coalesce(as_of_date, run_at::date) <= $day
qualify run_at = max(run_at) over (partition by model)
order by model, metric_name
