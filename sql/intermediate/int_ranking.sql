-- Brokers and teams (kind = 'broker' | 'team') ranked by revenue, ties by id, per period
-- touching d0 .. d1; prev_rank is the rank in the previous period of the same type,
-- computed in this run when that period is touched too, else as stored in the mart.
create or replace temp macro int_ranking(d0, d1, effective_assets, period_types) as table
with

current as (
    select
        *,
        row_number() over (
            partition by kind, period_type, period_start order by revenue desc, group_id
        ) as rank
    from int_group_period(d0, d1, effective_assets, period_types)
),

stored as (
    select 'broker' as kind, period_type, period_start, broker_id as group_id, rank
    from mart.broker_ranking
    union all
    select 'team', period_type, period_start, team_id, rank
    from mart.team_ranking
),

periods as (
    select distinct period_type, period_start, prev_period_start from stg_session_periods()
),

final as (
    select
        c.*,
        coalesce(pc.rank, ps.rank) as prev_rank
    from current as c
    inner join periods as p on p.period_type = c.period_type and p.period_start = c.period_start
    left join current as pc
        on pc.kind = c.kind and pc.period_type = c.period_type and pc.period_start = p.prev_period_start
        and pc.group_id = c.group_id
    left join stored as ps
        on ps.kind = c.kind and ps.period_type = c.period_type
        and ps.period_start = p.prev_period_start and ps.group_id = c.group_id
)

select * from final
