-- The client base's month ends and their naive projection (mart.flow_projection): the last
-- $months months whose stored figures end on or before $day, newest first (a month stored past
-- $day is not shown in the report of $day, as in analysis_flow).
select *
from mart.flow_projection
where month_end <= $day
order by month_start desc
limit $months
