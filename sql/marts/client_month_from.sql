-- The first month rebuild_rankings rebuilds in mart.client_month for $start .. $end:
-- $start's, or an earlier month of that year whose stored rows miss loaded sessions
-- (a warehouse from before client_month, sessions loaded without the rankings run).
select least(
    date_trunc('month', $start)::date,
    min(month_start) filter (where stored_to is distinct from loaded_to)
) as month_start
from int_client_month_status(date_trunc('year', $start)::date, $end)
