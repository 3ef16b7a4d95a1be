-- Brokers and teams (column grp = 'broker' | 'team') over the period $period_type starting
-- $period_start, to $day: the measures and rank of mart.broker_ranking / team_ranking
-- (spec 4), recomputed to $day so that a past day's report shows that day's standing.
-- prev_rank is the stored rank of the previous period ($prev_start, complete).
-- One scan of the period's client rows serves both groupings (grouping sets).
with

daily as (
    select
        client_id,
        sum(net_inflow) as net_inflow,
        sum(trade_amount) as trade_amount,
        sum(net_commission) as net_commission,
        sum(revenue) as revenue,
        bool_or(trade_count > 0) as traded,
        max(as_of_date) as last_date,
        arg_max(total_assets, as_of_date) as last_assets
    from mart.client_daily
    where as_of_date between $period_start and $day
    group by client_id
),

indicators as (
    select
        client_id,
        bool_or(coalesce(churn_event, false)) as churned,
        arg_max(profitability, as_of_date) as last_profitability
    from mart.client_indicators
    where as_of_date between $period_start and $day
    group by client_id
),

period_end as (
    select max(as_of_date) as end_date
    from mart.client_daily
    where as_of_date between $period_start and $day
),

snapshot as (
    select
        client_id,
        arg_max(broker_id, as_of_date) as broker_id,
        arg_max(open_date, as_of_date) as open_date
    from raw.clients
    where as_of_date between $period_start and $day
    group by client_id
),

teams as (
    select broker_id, arg_max(team_id, as_of_date) as team_id
    from raw.brokers
    where as_of_date between $period_start and (select end_date from period_end)
    group by broker_id
),

-- per client: aggregated separately, joined once (200k rows, not 200k x sessions)
by_client as (
    select
        d.*,
        s.broker_id,
        s.open_date,
        coalesce(i.churned, false) as churned,
        i.last_profitability
    from daily as d
    left join snapshot as s on s.client_id = d.client_id
    left join indicators as i on i.client_id = d.client_id
),

clients as (
    select
        b.*,
        coalesce(b.open_date between $period_start and e.end_date, false) as is_new,
        b.last_date = e.end_date as exists_at_end,
        case when b.last_date = e.end_date then b.last_assets end as end_assets,
        case when b.last_date = e.end_date then b.last_profitability end as end_profitability
    from by_client as b
    cross join period_end as e
),

grouped as (
    select
        case when grouping(t.team_id) = 0 then 'team' else 'broker' end as grp,
        case when grouping(t.team_id) = 0 then t.team_id else c.broker_id end as group_id,
        count(*) filter (where c.exists_at_end) as clients,
        count(*) filter (where c.exists_at_end and c.end_assets >= $effective_assets) as effective_clients,
        coalesce(sum(c.end_assets) filter (where c.exists_at_end), 0) as total_assets,
        sum(c.net_inflow) as net_inflow,
        sum(c.trade_amount) as trade_amount,
        sum(c.net_commission) as net_commission,
        sum(c.revenue) as revenue,
        count(*) filter (where c.is_new) as new_clients,
        count(*) filter (where c.exists_at_end and c.traded)
            / nullif(count(*) filter (where c.exists_at_end), 0) as active_ratio,
        count(*) filter (where c.churned) as churned_clients,
        avg(c.end_profitability) filter (where c.exists_at_end) as avg_profitability
    from clients as c
    left join teams as t on t.broker_id = c.broker_id
    group by grouping sets ((c.broker_id), (t.team_id))
),

ranked as (
    select *, row_number() over (partition by grp order by revenue desc, group_id) as rank
    from grouped
),

previous as (
    select 'broker' as grp, broker_id as group_id, rank
    from mart.broker_ranking
    where period_type = $period_type and period_start = $prev_start
    union all
    select 'team' as grp, team_id as group_id, rank
    from mart.team_ranking
    where period_type = $period_type and period_start = $prev_start
)

select r.*, p.rank as prev_rank, (select end_date from period_end) as period_end
from ranked as r
left join previous as p on p.grp = r.grp and p.group_id = r.group_id
order by r.grp, r.rank
