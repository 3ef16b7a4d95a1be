-- What ranking_period.sql computes, read from the marts: the stored $period_type starting
-- $period_start when it runs to $day (mart.ranking_periods), as it does in the report of a
-- run's last session. No row otherwise: the report then recomputes it.
with

stored as (
    select period_type, period_start
    from mart.ranking_periods
    where period_type = $period_type and period_start = $period_start and period_end = $day
)

select 'broker' as grp, * rename (broker_id as group_id)
from mart.broker_ranking
semi join stored using (period_type, period_start)
union all
select 'team' as grp, * rename (team_id as group_id)
from mart.team_ranking
semi join stored using (period_type, period_start)
order by grp, rank
