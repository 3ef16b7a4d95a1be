-- The sessions whose mart.client_running rows the client-analysis SQL of d0 .. d1 looks up:
-- each session D of the range, the last session before each month, quarter and year holding
-- D (int_client_value subtracts the totals there), and the session annual_sessions back from
-- D (client_loyalty). core.db.running_lookup lists them as constants in the macro
-- int_running_lookup(d) that those files filter mart.client_running by.
create or replace temp macro int_running_lookup_dates(d0, d1, annual_sessions) as table
with

days as (
    select session_date, session_idx
    from ref.sessions
    where session_date between d0 and d1
)

select session_date as as_of_date from days
union
select before_date from int_period_before(d0, d1) where before_date is not null
union
select b.session_date
from days as d
inner join ref.sessions as b on b.session_idx = d.session_idx - annual_sessions
