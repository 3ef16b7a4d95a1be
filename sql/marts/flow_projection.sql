-- mart.flow_projection: per calendar month touching $start .. $end, over its loaded sessions up
-- to $end (as mart.client_flow), where the client base ends, what it gained and lost, and a naive
-- projection of the month's end with its error (docs/spec/client-analysis.md, "Beyond the page").
--   month_end, clients_end, assets_end  the month's last loaded session, its clients and their
--                       total_assets (mart.branch_daily of that session: the clients on D are
--                       the client_daily rows, so these are client_flow's clients_end and their sum)
--   complete            month_end is the month's last XSHG session: the end values are final
--   new_assets          client_flow.new_assets
--   lost_assets         over the clients who closed or churned in the month (client_changes, as
--                       client_flow counts them), the total_assets of their latest row before the
--                       month's first session they did (mart.client_exits.assets_before)
--   basis_months        k, the complete months in a row right before the month, at most 4
--   projected_clients, projected_assets  with v1 .. vk the end values of those months, newest
--                       first: v1 + (v1 - vk) / (k - 1), the last value plus the mean month-over-month
--                       change of the k - 1 changes; null when k < 2
--   clients_error, assets_error  projected / actual - 1 when the month is complete; else null
--   next_clients, next_assets  the projection of the month after (null unless the month is complete)
with

months as (
    -- the output months and the 4 before the first: their last loaded session
    select date_trunc('month', as_of_date)::date as month_start, max(as_of_date) as month_end
    from mart.branch_daily
    where as_of_date between (date_trunc('month', $start) - interval 4 month)::date and $end
    group by all
),

calendar as (
    select date_trunc('month', session_date)::date as month_start, max(session_date) as last_session
    from ref.sessions
    where session_date between (date_trunc('month', $start) - interval 4 month)::date and last_day($end)
    group by all
),

ends as (
    select
        m.month_start,
        m.month_end,
        m.month_end = c.last_session as complete,
        b.clients as clients_end,
        b.total_assets as assets_end
    from months as m
    inner join calendar as c on c.month_start = m.month_start
    inner join mart.branch_daily as b on b.as_of_date = m.month_end
),

targets as (
    -- each output month, and the month after it (its next_*)
    select month_start as target
    from ends
    where month_start >= date_trunc('month', $start)::date
    union
    select (month_start + interval 1 month)::date
    from ends
    where month_start >= date_trunc('month', $start)::date
),

chains as (
    -- the complete months right before the target: 1 to 4 months back, stopping at a gap
    select
        t.target,
        case
            when p1.month_start is null then 0
            when p2.month_start is null then 1
            when p3.month_start is null then 2
            when p4.month_start is null then 3
            else 4
        end as k,
        p1.clients_end as c1,
        p1.assets_end as a1,
        [p1.clients_end, p2.clients_end, p3.clients_end, p4.clients_end] as c,
        [p1.assets_end, p2.assets_end, p3.assets_end, p4.assets_end] as a
    from targets as t
    left join ends as p1 on p1.month_start = (t.target - interval 1 month)::date and p1.complete
    left join ends as p2 on p2.month_start = (t.target - interval 2 month)::date and p2.complete
    left join ends as p3 on p3.month_start = (t.target - interval 3 month)::date and p3.complete
    left join ends as p4 on p4.month_start = (t.target - interval 4 month)::date and p4.complete
),

projections as (
    select
        target,
        k as basis_months,
        case when k >= 2 then c1 + (c1 - c[k]) / (k - 1) end as projected_clients,
        case when k >= 2 then a1 + (a1 - a[k]) / (k - 1) end as projected_assets
    from chains
),

lost as (
    select date_trunc('month', as_of_date)::date as month_start, sum(assets_before) as lost_assets
    from mart.client_exits
    where as_of_date between date_trunc('month', $start)::date and $end
    group by all
),

final as (
    select
        e.month_start,
        e.month_end,
        e.complete,
        e.clients_end,
        e.assets_end,
        f.new_assets,
        coalesce(l.lost_assets, 0) as lost_assets,
        p.basis_months,
        p.projected_clients,
        p.projected_assets,
        case when e.complete then p.projected_clients / nullif(e.clients_end, 0) - 1 end as clients_error,
        case when e.complete then p.projected_assets / nullif(e.assets_end, 0) - 1 end as assets_error,
        case when e.complete then n.projected_clients end as next_clients,
        case when e.complete then n.projected_assets end as next_assets
    from ends as e
    inner join projections as p on p.target = e.month_start
    left join projections as n on n.target = (e.month_start + interval 1 month)::date
    left join mart.client_flow as f on f.month_start = e.month_start
    left join lost as l on l.month_start = e.month_start
    where e.month_start >= date_trunc('month', $start)::date
)

select * from final
