-- mart.client_month (internal): every month from $start's to $end's, from all its loaded
-- sessions, so a stored month is complete as loaded (sql/intermediate/int_client_calendar.sql).
select * rename (span_start as month_start)
from int_client_calendar(date_trunc('month', $start)::date, last_day($end), 'month')
