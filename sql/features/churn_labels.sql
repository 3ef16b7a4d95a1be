-- Churn label of every client-day on $start .. $end (models/churn.py): true when
-- churn_event happens on one of the $horizon sessions strictly after the day. Only events
-- up to $known_until are read, so a label is `complete` when its whole horizon is known.
with

known as (
    select session_idx as known_idx from ref.sessions where session_date = $known_until
),

days as (
    select i.as_of_date, i.client_id, s.session_idx
    from mart.client_windows as i
    inner join ref.sessions as s on i.as_of_date = s.session_date
    where i.as_of_date between $start and least($end, $known_until)
),

-- churn events are rare: each one makes the $horizon sessions before it positive
positive_days as (
    select distinct i.client_id, s.session_date as as_of_date
    from mart.client_windows as i
    inner join ref.sessions as e on e.session_date = i.as_of_date
    inner join ref.sessions as s on s.session_idx between e.session_idx - $horizon and e.session_idx - 1
    where i.churn_event and i.as_of_date > $start and i.as_of_date <= $known_until
),

final as (
    select
        d.as_of_date,
        d.client_id,
        -- a semi-join, so the hash table holds the few positive days, not the labelled ones
        (d.as_of_date, d.client_id) in (select (as_of_date, client_id) from positive_days) as label,
        d.session_idx + $horizon <= (select known_idx from known) as complete
    from days as d
)

select * from final
