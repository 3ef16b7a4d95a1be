-- Every session with the start of each calendar period containing it, and that
-- period's previous start (for *_chg and prev_rank). Weeks start on Monday.
create or replace temp macro stg_session_periods() as table
with

sessions as (
    select session_date from ref.sessions
),

periods as (
    select
        s.session_date,
        p.period_type,
        case p.period_type
            when 'week' then date_trunc('week', s.session_date)
            when 'month' then date_trunc('month', s.session_date)
            when 'quarter' then date_trunc('quarter', s.session_date)
            when 'half' then make_date(year(s.session_date), case when month(s.session_date) <= 6 then 1 else 7 end, 1)
            when 'year' then date_trunc('year', s.session_date)
        end::date as period_start
    from sessions as s
    cross join (values ('week'), ('month'), ('quarter'), ('half'), ('year')) as p(period_type)
),

final as (
    select
        session_date,
        period_type,
        period_start,
        case period_type
            when 'week' then period_start - interval 7 day
            when 'month' then period_start - interval 1 month
            when 'quarter' then period_start - interval 3 month
            when 'half' then period_start - interval 6 month
            when 'year' then period_start - interval 1 year
        end::date as prev_period_start
    from periods
)

select * from final
