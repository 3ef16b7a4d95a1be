-- The calendar periods containing `day`, to `day` (which = 'cur'), and the previous period
-- of each type in full ('prev'), ord = display order: the ranges of the report's period
-- KPIs, whether read from mart.branch_period or recomputed (sql/reports/kpi_periods*.sql).
create or replace temp macro stg_session_periods_of_day(day) as table
with

bounds as (
    select
        period_type,
        list_position(['week', 'month', 'quarter', 'half', 'year'], period_type) as ord,
        period_start,
        prev_period_start
    from stg_session_periods()
    where session_date = day
),

final as (
    select period_type, ord, 'cur' as which, period_start as d0, day::date as d1 from bounds
    union all
    select period_type, ord, 'prev' as which, prev_period_start as d0, (period_start - 1)::date as d1
    from bounds
)

select * from final
