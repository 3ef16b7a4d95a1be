-- mart.broker_ranking: brokers ranked by revenue (ties by broker_id) per period touching
-- $start .. $end; prev_rank is the rank in the previous period of the same type.
with

current as (
    select
        * exclude (group_id),
        group_id as broker_id,
        row_number() over (
            partition by period_type, period_start order by revenue desc, group_id
        ) as rank
    from int_group_period($start, $end, $effective_assets, 'broker')
),

periods as (
    select distinct period_type, period_start, prev_period_start from stg_session_periods()
),

final as (
    select
        c.*,
        coalesce(pc.rank, pm.rank) as prev_rank
    from current as c
    inner join periods as p on p.period_type = c.period_type and p.period_start = c.period_start
    left join current as pc
        on pc.period_type = c.period_type and pc.period_start = p.prev_period_start
        and pc.broker_id = c.broker_id
    left join mart.broker_ranking as pm
        on pm.period_type = c.period_type and pm.period_start = p.prev_period_start
        and pm.broker_id = c.broker_id
)

select * from final
