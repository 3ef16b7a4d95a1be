-- Broker and team names of the brokers snapshot of $day (the latest one before it when
-- the day has none).
select broker_id, broker_name, team_id, team_name
from mart.broker_directory
where as_of_date = (select max(as_of_date) from mart.broker_directory where as_of_date <= $day)
