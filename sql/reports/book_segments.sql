-- The client cards' segment history (reports/books.py): per client of $day, its runs of one
-- segment over the sessions $since .. $day (n-th session minus n-th session in that segment
-- is constant within a run of consecutive sessions), oldest first.
with

sessions as (
    select * from int_loaded_sessions($since, $day)
),

segments as (
    select
        s.client_id,
        s.segment,
        d.i,
        d.i - row_number() over (partition by s.client_id, s.segment order by d.i) as run
    from mart.client_segments as s
    inner join sessions as d on d.as_of_date = s.as_of_date
    semi join mart.client_daily as c on c.as_of_date = $day and c.client_id = s.client_id
),

final as (
    select client_id, segment, min(i) as first_i, max(i) as last_i
    from segments
    group by client_id, segment, run
)

select *
from final
order by client_id, first_i
