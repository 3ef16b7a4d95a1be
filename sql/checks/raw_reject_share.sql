-- Files of which more than $max_reject_share of the rows were rejected.
select as_of_date, file, rows_read, rows_rejected, rows_rejected / rows_read as reject_share
from quality.loads
where as_of_date between $start and $end
    and rows_read > 0
    and rows_rejected / rows_read > $max_reject_share
