-- quality.published: the sessions whose run completed (every writer and its blocking checks
-- passed), with the fingerprint they were computed from. `crm run` compares a session's
-- files with this, so a run that failed half way is rebuilt even from unchanged files.
select
    as_of_date,
    any_value(fingerprint) as fingerprint,
    any_value(basis) as basis,
    now()::timestamp as published_at
from quality.loads
where as_of_date between $start and $end
group by as_of_date
