select horizon, from_segment, to_segment, clients
from mart.segment_transitions
where as_of_date = $day
order by horizon, from_segment, to_segment
