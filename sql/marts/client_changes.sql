-- mart.client_changes (internal, $start .. $end): per session, the clients whose state changed
-- on it, one row each (a client without a change has no row): opened in the session's month
-- (its open_date), closed (a close_date in that month), churned (churn_event), went dormant
-- (is_dormant, and not on its previous row: false or no row), woke up (not dormant while its
-- previous row was, trading that day). The previous row is the previous session's, or, after
-- a gap, the client's latest earlier row (a hash join on the previous session, not a lag
-- window sorting every client's rows). mart.client_flow counts these per month, so a month
-- is never re-read row by row.
with

days as (
    select session_date as as_of_date, session_idx
    from ref.sessions
    where session_date between $start and $end
),

before_days as (
    select session_date as prev_date
    from ref.sessions
    where session_idx = (select min(session_idx) from days) - 1
),

client_rows as (
    select w.as_of_date, s.session_idx, w.client_id, w.is_dormant, w.churn_event, d.trade_count
    from mart.client_windows as w
    inner join mart.client_daily as d on d.as_of_date = w.as_of_date and d.client_id = w.client_id
    inner join ref.sessions as s on s.session_date = w.as_of_date
    where w.as_of_date between $start and $end
),

-- the rows of the session before each of the range's, keyed by the session they precede
prev_rows as (
    select s.session_idx + 1 as next_idx, w.client_id, w.is_dormant
    from mart.client_windows as w
    inner join ref.sessions as s on s.session_date = w.as_of_date
    where w.as_of_date >= coalesce((select prev_date from before_days), $start) and w.as_of_date < $end
),

in_range as (
    select r.*, p.client_id is not null as has_prev, p.is_dormant as lag_dormant
    from client_rows as r
    left join prev_rows as p on p.next_idx = r.session_idx and p.client_id = r.client_id
),

gaps as (
    -- the rows whose client was absent on the previous session but has an earlier row
    -- (int_client_gaps, in a temp table: core.build.build_analysis)
    select as_of_date, client_id
    from client_gaps
),

gap_prev as (
    select g.as_of_date, g.client_id, arg_max(w.is_dormant, w.as_of_date) as is_dormant
    from gaps as g
    inner join mart.client_windows as w on w.client_id = g.client_id and w.as_of_date < g.as_of_date
    group by all
),

states as (
    select
        r.as_of_date,
        r.client_id,
        r.is_dormant,
        r.churn_event,
        r.trade_count,
        case when r.has_prev then r.lag_dormant else p.is_dormant end as prev_dormant
    from in_range as r
    left join gap_prev as p on p.as_of_date = r.as_of_date and p.client_id = r.client_id
),

clients as (
    select as_of_date, client_id, open_date, close_date
    from raw.clients
    where as_of_date between $start and $end
),

final as (
    select
        coalesce(s.as_of_date, k.as_of_date) as as_of_date,
        coalesce(s.client_id, k.client_id) as client_id,
        s.client_id is not null and date_trunc('month', k.open_date) = date_trunc('month', s.as_of_date) as opened,
        coalesce(date_trunc('month', k.close_date) = date_trunc('month', k.as_of_date), false) as closed,
        coalesce(s.churn_event, false) as churned,
        coalesce(s.is_dormant and not coalesce(s.prev_dormant, false), false) as went_dormant,
        coalesce(not s.is_dormant and s.prev_dormant and s.trade_count > 0, false) as woke_up
    from states as s
    full join clients as k on k.as_of_date = s.as_of_date and k.client_id = s.client_id
)

select * from final
where opened or closed or churned or went_dormant or woke_up
