-- mart.segment_transitions of $day: clients by (segment before, segment on $day), for
-- clients existing on both days. Horizon 'day': the previous session; 'month': $window
-- sessions before (a trading month).
with

today as (
    select s.session_idx
    from ref.sessions as s
    where s.session_date = $day
),

horizons as (
    select 'day' as horizon, s.session_date as from_date
    from ref.sessions as s
    where s.session_idx = (select session_idx from today) - 1
    union all
    select 'month' as horizon, s.session_date as from_date
    from ref.sessions as s
    where s.session_idx = (select session_idx from today) - $window
),

final as (
    select
        $day::date as as_of_date,
        h.horizon,
        b.segment as from_segment,
        a.segment as to_segment,
        count(*) as clients
    from horizons as h
    inner join mart.client_segments as b on b.as_of_date = h.from_date
    inner join mart.client_segments as a on a.as_of_date = $day and a.client_id = b.client_id
    group by all
)

select * from final
