-- Brokers and teams (column grp) ranked by the revenue of $day and of the session before
-- it, each client counted with the broker of that day's clients snapshot.
with

days as (
    select as_of_date
    from (select distinct as_of_date from mart.client_daily where as_of_date <= $day)
    order by as_of_date desc
    limit 2
),

grouped as (
    select
        c.as_of_date,
        case when grouping(k.team_id) = 0 then 'team' else 'broker' end as grp,
        case when grouping(k.team_id) = 0 then k.team_id else k.broker_id end as group_id,
        count(*) as clients,
        sum(c.total_assets) as total_assets,
        sum(c.net_inflow) as net_inflow,
        sum(c.trade_amount) as trade_amount,
        sum(c.net_commission) as net_commission,
        sum(c.revenue) as revenue
    from mart.client_daily as c
    inner join days as d on d.as_of_date = c.as_of_date
    left join mart.client_directory as k on k.as_of_date = c.as_of_date and k.client_id = c.client_id
    group by grouping sets ((c.as_of_date, k.broker_id), (c.as_of_date, k.team_id))
),

ranked as (
    select *, row_number() over (partition by as_of_date, grp order by revenue desc, group_id) as rank
    from grouped
)

select r.* exclude (as_of_date), p.rank as prev_rank
from ranked as r
left join ranked as p
    on p.grp = r.grp and p.group_id is not distinct from r.group_id and p.as_of_date < r.as_of_date
where r.as_of_date = $day
order by r.grp, r.rank
