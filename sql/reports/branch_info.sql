-- The branch's name from the brokers snapshot of $day (or the latest before it).
select branch_id, branch_name
from mart.broker_directory
where as_of_date <= $day and branch_name is not null
order by as_of_date desc, broker_id
limit 1
