-- Broker or team measures per period (touching d0 .. d1): the shared body of
-- broker_ranking and team_ranking. group_by is 'broker' or 'team'.
create or replace macro int_group_period(d0, d1, effective_assets, group_by, period_types) as table
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

final as (
    select
        c.period_type,
        c.period_start,
        case when group_by = 'team' then coalesce(t.team_id, 'UNASSIGNED') else c.broker_id end as group_id,
        count(*) filter (where c.exists_at_end) as clients,
        count(*) filter (where c.exists_at_end and c.end_assets >= effective_assets) as effective_clients,
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
    left join teams as t
        on t.period_type = c.period_type and t.period_start = c.period_start and t.broker_id = c.broker_id
    group by all
)

select * from final
