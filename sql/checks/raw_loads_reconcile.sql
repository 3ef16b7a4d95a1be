-- Files whose read rows differ from loaded + rejected, or whose loaded count differs
-- from the rows actually in raw.<file> for that day.
with

counted as (
    select as_of_date, 'clients' as file, count(*) as n from raw.clients where as_of_date between $start and $end group by all
    union all select as_of_date, 'brokers', count(*) from raw.brokers where as_of_date between $start and $end group by all
    union all select as_of_date, 'trades', count(*) from raw.trades where as_of_date between $start and $end group by all
    union all select as_of_date, 'positions', count(*) from raw.positions where as_of_date between $start and $end group by all
    union all select as_of_date, 'cash', count(*) from raw.cash where as_of_date between $start and $end group by all
    union all select as_of_date, 'quotes', count(*) from raw.quotes where as_of_date between $start and $end group by all
    union all select as_of_date, 'market', count(*) from raw.market where as_of_date between $start and $end group by all
)

select l.as_of_date, l.file, l.rows_read, l.rows_loaded, l.rows_rejected, coalesce(c.n, 0) as rows_in_raw
from quality.loads as l
left join counted as c on c.as_of_date = l.as_of_date and c.file = split_part(l.file, '.', 1)
where l.as_of_date between $start and $end
    and (l.rows_read <> l.rows_loaded + l.rows_rejected or l.rows_loaded <> coalesce(c.n, 0))
