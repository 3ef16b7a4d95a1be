-- Churn label of every client-day on $start .. $end (models/churn.py): true when
-- churn_event happens on one of the $horizon sessions strictly after the day. Only events
-- up to $known_until are read, so a label is `complete` when its whole horizon is known.
with

bounds as (
    select
        (select session_idx from ref.sessions where session_date = $known_until) as known_idx
),

events as (
    select
        i.as_of_date,
        i.client_id,
        s.session_idx,
        coalesce(i.churn_event, false) as churn_event
    from mart.client_indicators as i
    inner join ref.sessions as s on i.as_of_date = s.session_date
    where i.as_of_date >= $start and i.as_of_date <= $known_until
),

labelled as (
    select
        as_of_date,
        client_id,
        session_idx,
        coalesce(
            bool_or(churn_event) over (
                partition by client_id order by session_idx
                range between 1 following and $horizon following
            ),
            false
        ) as label
    from events
),

final as (
    select
        as_of_date,
        client_id,
        label,
        session_idx + $horizon <= (select known_idx from bounds) as complete
    from labelled
    where as_of_date <= $end
)

select * from final
