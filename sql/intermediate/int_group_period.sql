-- Broker and team measures per period (touching d0 .. d1): the shared body of
-- broker_ranking and team_ranking (kind = 'broker' | 'team'), both from one pass over
-- the clients' periods; period_end is the period's last loaded session up to d1.
create or replace temp macro int_group_period(d0, d1, effective_assets, period_types) as table
with

clients as (
    select * from int_client_period(d0, d1, period_types)
),

teams as (
    select
        p.period_type,
        p.period_start,
        b.broker_id,
        arg_max(b.team_id, b.as_of_date) as team_id
    from (select distinct period_type, period_start, end_date from clients) as p
    inner join raw.brokers as b on b.as_of_date between p.period_start and p.end_date
    group by all
),

with_team as (
    select c.*, coalesce(t.team_id, 'UNASSIGNED') as team_id
    from clients as c
    left join teams as t
        on t.period_type = c.period_type and t.period_start = c.period_start and t.broker_id = c.broker_id
),

final as (
    select
        case when grouping(team_id) = 0 then 'team' else 'broker' end as kind,
        period_type,
        period_start,
        case when grouping(team_id) = 0 then team_id else broker_id end as group_id,
        count(*) filter (where exists_at_end) as clients,
        count(*) filter (where exists_at_end and int_money(end_assets) >= int_money(effective_assets))
            as effective_clients,
        coalesce(sum(end_assets) filter (where exists_at_end), 0) as total_assets,
        sum(net_inflow) as net_inflow,
        sum(trade_amount) as trade_amount,
        sum(net_commission) as net_commission,
        sum(revenue) as revenue,
        count(*) filter (where is_new) as new_clients,
        count(*) filter (where exists_at_end and traded)
            / nullif(count(*) filter (where exists_at_end), 0) as active_ratio,
        count(*) filter (where churned) as churned_clients,
        avg(end_profitability) filter (where exists_at_end) as avg_profitability,
        max(end_date) as period_end
    from with_team
    group by grouping sets ((period_type, period_start, broker_id), (period_type, period_start, team_id))
)

select * from final
