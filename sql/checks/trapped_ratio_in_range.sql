-- trapped_ratio outside [0, 1] or trapped_depth outside [threshold, 1].
select as_of_date, client_id, trapped_ratio, trapped_depth
from mart.client_windows
where as_of_date between $start and $end
    and (trapped_ratio not between 0 and 1 or trapped_depth not between $trap_threshold - 1e-12 and 1)
