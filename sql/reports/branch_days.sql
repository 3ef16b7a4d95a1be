-- mart.branch_daily on $day and on the session before it (for the day's changes).
select *
from mart.branch_daily
where as_of_date <= $day
order by as_of_date desc
limit 2
