-- Did the call list work (docs/decisions.md, "Did it work"): for the lists of the last
-- $call_outcome_lists sessions whose next $call_outcome_sessions sessions are loaded up to $day,
-- per broker and reason, the listed clients (rank <= $calls_per_broker) against comparable
-- ones (the same broker's clients with the same reason on the same session, ranked just below
-- the cap: up to as many again), and how many of each responded within those sessions:
-- traded, deposited (net inflow > 0 on a session), or stopped withdrawing (a net outflow in the
-- $call_outcome_sessions sessions up to the list's, none after). A client counts once per
-- list it is on. Without contact records this measures the list, not the call.
with

sessions as (
    select * from int_loaded_sessions(date '0001-01-01', $day)
),

judged as (
    select s.as_of_date as list_date, s.i
    from sessions as s
    where s.i > (select max(i) from sessions) - $call_outcome_sessions - $call_outcome_lists
      and s.i <= (select max(i) from sessions) - $call_outcome_sessions
),

-- each judged list's sessions: the $call_outcome_sessions before it (itself included) and after
windows as (
    select j.list_date, s.as_of_date, s.i > j.i as after
    from judged as j
    inner join sessions as s on s.i > j.i - $call_outcome_sessions and s.i <= j.i + $call_outcome_sessions
),

candidates as (
    select
        c.as_of_date as list_date,
        c.broker_id,
        c.client_id,
        c.reason,
        c.rank <= $calls_per_broker as listed
    from int_call_candidates((select min(list_date) from judged), (select max(list_date) from judged),
                             $annual_sessions, $churn_high, $rule_high, $call_trapped_factor,
                             $call_dormant_factor) as c
    semi join judged as j on j.list_date = c.as_of_date
    where c.rank <= 2 * $calls_per_broker
),

outcomes as (
    select
        c.list_date,
        c.client_id,
        coalesce(bool_or(d.trade_count > 0) filter (where w.after), false) as traded,
        coalesce(bool_or(d.net_inflow > 0) filter (where w.after), false) as deposited,
        coalesce(bool_or(d.net_inflow < 0) filter (where not w.after), false)
            and not coalesce(bool_or(d.net_inflow < 0) filter (where w.after), false) as stopped_withdrawing
    from candidates as c
    inner join windows as w on w.list_date = c.list_date
    inner join mart.client_daily as d on d.as_of_date = w.as_of_date and d.client_id = c.client_id
    group by c.list_date, c.client_id
),

final as (
    select
        c.broker_id,
        c.reason,
        count(*) filter (where c.listed) as listed,
        count(*) filter (where c.listed and (o.traded or o.deposited or o.stopped_withdrawing)) as listed_responded,
        count(*) filter (where not c.listed) as comparable,
        count(*) filter (where not c.listed and (o.traded or o.deposited or o.stopped_withdrawing))
            as comparable_responded,
        (select min(list_date) from judged) as first_list,
        (select max(list_date) from judged) as last_list,
        (select count(*) from judged) as lists
    from candidates as c
    inner join outcomes as o on o.list_date = c.list_date and o.client_id = c.client_id
    group by c.broker_id, c.reason
)

select * from final
order by broker_id nulls last, reason
