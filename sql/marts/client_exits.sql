-- mart.client_exits (internal, $start .. $end): per session D, the clients that left on it: their
-- first mart.client_changes row of D's month with closed or churned is D's (client_flow counts
-- them once a month), with assets_before, the total_assets of their latest row before D: the
-- previous session's row, else an earlier row of D's month, else the last row of the latest
-- earlier month (mart.client_month.last_assets), else 0. mart.flow_projection sums a month's
-- rows (lost_assets), so a month is never re-read row by row.
with

changes as (
    select as_of_date, client_id, closed, churned, date_trunc('month', as_of_date)::date as month_start
    from mart.client_changes
    where as_of_date between date_trunc('month', $start)::date and $end and (closed or churned)
),

exits as (
    select c.as_of_date, c.client_id, c.closed, c.churned, c.month_start, s.prev_session
    from (select *, min(as_of_date) over (partition by month_start, client_id) as first_exit from changes) as c
    inner join ref.sessions as s on s.session_date = c.as_of_date
    where c.as_of_date = c.first_exit and c.as_of_date between $start and $end
),

on_previous as (
    select e.as_of_date, e.client_id, d.total_assets as assets
    from exits as e
    inner join mart.client_daily as d on d.as_of_date = e.prev_session and d.client_id = e.client_id
),

-- a client without a row on the previous session (rare): its latest earlier row
gaps as (
    select e.*
    from exits as e
    anti join on_previous as p on p.as_of_date = e.as_of_date and p.client_id = e.client_id
),

earlier_in_month as (
    select g.as_of_date, g.client_id, arg_max(d.total_assets, d.as_of_date) as assets
    from gaps as g
    inner join mart.client_daily as d
        on d.client_id = g.client_id and d.as_of_date >= g.month_start and d.as_of_date < g.as_of_date
    where d.as_of_date between date_trunc('month', $start)::date and $end
    group by all
),

earlier_month as (
    select g.as_of_date, g.client_id, arg_max(m.last_assets, m.month_start) as assets
    from gaps as g
    inner join mart.client_month as m on m.client_id = g.client_id and m.month_start < g.month_start
    where m.last_date is not null
    group by all
),

final as (
    select
        e.as_of_date,
        e.client_id,
        e.closed,
        e.churned,
        coalesce(p.assets, i.assets, m.assets, 0) as assets_before
    from exits as e
    left join on_previous as p on p.as_of_date = e.as_of_date and p.client_id = e.client_id
    left join earlier_in_month as i on i.as_of_date = e.as_of_date and i.client_id = e.client_id
    left join earlier_month as m on m.as_of_date = e.as_of_date and m.client_id = e.client_id
)

select * from final
