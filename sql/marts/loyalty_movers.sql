-- mart.loyalty_movers ($start .. $end): per session D, the clients whose loyalty score
-- (mart.client_loyalty) moved most since then_date, the last loaded session (mart.branch_daily)
-- of the calendar month before D's: the $loyalty_movers largest rises (direction 'up') and the
-- $loyalty_movers largest falls ('down'), each ranked from 1 by the size of the change
-- (loyalty_now - loyalty_then, as stored), ties by client_id. A client needs a score on both
-- sessions; an unchanged score is neither. No session loaded in the previous month: no row.
with

days as (
    select session_date as as_of_date, date_trunc('month', session_date)::date as month_start
    from ref.sessions
    where session_date between $start and $end
),

then_days as (
    select d.as_of_date, max(b.as_of_date) as then_date
    from days as d
    inner join mart.branch_daily as b
        on b.as_of_date >= (d.month_start - interval 1 month)::date and b.as_of_date < d.month_start
    group by all
),

then_scores as (
    select t.as_of_date, t.then_date, o.client_id, o.loyalty
    from then_days as t
    inner join mart.client_loyalty as o on o.as_of_date = t.then_date
    where o.as_of_date between (date_trunc('month', $start) - interval 1 month)::date and $end
),

changes as (
    select
        n.as_of_date,
        n.client_id,
        t.then_date,
        t.loyalty as loyalty_then,
        n.loyalty as loyalty_now,
        n.loyalty - t.loyalty as change
    from mart.client_loyalty as n
    inner join then_scores as t on t.as_of_date = n.as_of_date and t.client_id = n.client_id
    where n.as_of_date between $start and $end and n.loyalty <> t.loyalty
),

-- per session and direction the $loyalty_movers smallest (-|change|, client_id), in that order:
-- a top-N per group, not a sort of every client
top as (
    select
        as_of_date,
        change > 0 as up,
        arg_min(
            {'client_id': client_id, 'then_date': then_date, 'loyalty_then': loyalty_then,
             'loyalty_now': loyalty_now, 'change': change},
            (-abs(change), client_id), $loyalty_movers
        ) as movers
    from changes
    group by all
),

final as (
    select
        as_of_date,
        m.client_id,
        case when up then 'up' else 'down' end as direction,
        rank,
        m.then_date,
        m.loyalty_then,
        m.loyalty_now,
        m.change
    from (select as_of_date, up, unnest(movers) as m, unnest(range(1, len(movers) + 1)) as rank from top)
)

select * from final
