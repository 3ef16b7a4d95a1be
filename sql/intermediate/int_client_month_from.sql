-- The first month rebuild_rankings rebuilds in mart.client_month for d0 .. d1: d0's, or
-- an earlier month of that year whose stored rows miss loaded sessions (sessions loaded
-- without the rankings run).
create or replace temp macro int_client_month_from(d0, d1) as table
select least(
    date_trunc('month', d0)::date,
    min(month_start) filter (where stored_to is distinct from loaded_to)
) as month_start
from int_client_month_status(date_trunc('year', d0)::date, d1)
