-- The client base's flow (mart.client_flow): the last $months months whose stored figures end
-- on or before $day, newest first; stored_end is how far the mart holds the month containing
-- $day (a later end: the month is not shown in the report of $day).
select
    *,
    (select max(month_end) from mart.client_flow where month_start = date_trunc('month', $day::date))
        as stored_end
from mart.client_flow
where month_end <= $day
order by month_start desc
limit $months
