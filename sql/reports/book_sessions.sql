-- The last $sessions loaded sessions up to $day, oldest first: the span of the broker books'
-- client cards (charts, recent trades, segment history).
select as_of_date
from (
    select as_of_date
    from mart.branch_daily
    where as_of_date <= $day
    order by as_of_date desc
    limit $sessions
)
order by as_of_date
