-- Files of which more than $max_reject_share of the rows were rejected, with the first reject.
select l.as_of_date, l.file, l.rows_read, l.rows_rejected, l.rows_rejected / l.rows_read as reject_share,
    r.row_number as first_row, r.column_name as first_column, r.reason as first_reason
from quality.loads as l
left join (
    select as_of_date, file, min_by(row_number, row_number) as row_number,
        min_by(column_name, row_number) as column_name, min_by(reason, row_number) as reason
    from quality.rejects
    where as_of_date between $start and $end
    group by all
) as r using (as_of_date, file)
where l.as_of_date between $start and $end
    and l.rows_read > 0
    and l.rows_rejected / l.rows_read > $max_reject_share
order by l.as_of_date, l.file
