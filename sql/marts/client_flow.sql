-- mart.client_flow: per calendar month touching $start .. $end, over its loaded sessions up
-- to $end, how the client base moved (docs/spec/client-analysis.md, 7): clients opened,
-- closed, churned, gone dormant and woken up (each once, from mart.client_changes), the
-- clients on the month's last loaded session and the assets the month's new clients hold then.
with

month_ends as (
    select date_trunc('month', as_of_date)::date as month_start, max(as_of_date) as month_end
    from mart.branch_daily
    where as_of_date between date_trunc('month', $start)::date and $end
    group by all
),

changes as (
    select date_trunc('month', as_of_date)::date as month_start, *
    from mart.client_changes
    where as_of_date between (select min(month_start) from month_ends) and $end
),

moves as (
    select
        month_start,
        count(distinct client_id) filter (where opened) as opened,
        count(distinct client_id) filter (where closed) as closed,
        count(distinct client_id) filter (where churned) as churned,
        count(distinct client_id) filter (where went_dormant) as went_dormant,
        count(distinct client_id) filter (where woke_up) as woke_up
    from changes
    group by all
),

opened as (
    select distinct month_start, client_id from changes where opened
),

ends as (
    select
        m.month_start,
        m.month_end,
        count(*) as clients_end,
        coalesce(sum(d.total_assets) filter (where o.client_id is not null), 0) as new_assets
    from month_ends as m
    inner join mart.client_windows as w on w.as_of_date = m.month_end
    inner join mart.client_daily as d on d.as_of_date = w.as_of_date and d.client_id = w.client_id
    left join opened as o on o.month_start = m.month_start and o.client_id = w.client_id
    group by all
),

final as (
    select
        e.month_start,
        e.month_end,
        coalesce(v.opened, 0) as opened,
        coalesce(v.closed, 0) as closed,
        coalesce(v.churned, 0) as churned,
        coalesce(v.went_dormant, 0) as went_dormant,
        coalesce(v.woke_up, 0) as woke_up,
        e.clients_end,
        e.new_assets
    from ends as e
    left join moves as v on v.month_start = e.month_start
)

select * from final
