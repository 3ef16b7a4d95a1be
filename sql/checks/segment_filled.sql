-- Clients of the checked sessions without one of the four segments (or without a row).
with

segments as (
    select as_of_date, client_id, segment
    from mart.client_segments
    where as_of_date between $start and $end
)

select w.as_of_date, w.client_id, s.segment
from mart.client_windows as w
left join segments as s using (as_of_date, client_id)
where w.as_of_date between $start and $end
    and (s.segment is null or s.segment not in ('stable', 'aggressive', 'conservative', 'inactive'))
