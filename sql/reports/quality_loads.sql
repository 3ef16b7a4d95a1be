-- What each file of $day gave: rows read, loaded, rejected.
select file, format, rows_read, rows_loaded, rows_rejected, loaded_at
from quality.loads
where as_of_date = $day
order by file
