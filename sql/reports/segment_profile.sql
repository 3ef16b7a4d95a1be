select *
from mart.segment_profile
where as_of_date = $day
order by clients desc, segment
