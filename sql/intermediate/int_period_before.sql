-- Per session D in d0 .. d1 and calendar month / quarter / year containing D: the period's
-- start and the last session before it (null before the calendar's first session: nothing
-- to subtract), whose running totals are subtracted from D's to sum the period to D.
create or replace temp macro int_period_before(d0, d1) as table
with

periods as (
    select p.session_date as as_of_date, p.period_type, p.period_start
    from stg_session_periods() as p
    where p.session_date between d0 and d1 and p.period_type in ('month', 'quarter', 'year')
)

select p.as_of_date, p.period_type, p.period_start, b.session_date as before_date
from periods as p
left join ref.sessions as b on b.session_idx = (
    select min(session_idx) from ref.sessions where session_date >= p.period_start) - 1
