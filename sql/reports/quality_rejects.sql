-- Rejected rows of $day by file, column and reason, with a few example row numbers
-- (the raw row is never shown: it may hold a client's personal data).
select
    file,
    column_name,
    reason,
    count(*) as rows,
    list(row_number order by row_number)[1:$examples] as example_rows
from quality.rejects
where as_of_date = $day
group by file, column_name, reason
order by file, rows desc, column_name, reason
