-- Per target session in [d0, d1] and client: its mart.client_running row `back` sessions
-- earlier. No row means the client had not started then: every total is 0 (callers
-- coalesce), so totals(D) - totals(D - back) sums the `back` sessions ending at D.
create or replace temp macro int_client_running_back(d0, d1, back) as table
select t.session_date as as_of_date, r.* exclude (as_of_date)
from ref.sessions as t
inner join ref.sessions as b on b.session_idx = t.session_idx - back
inner join mart.client_running as r on r.as_of_date = b.session_date
where t.session_date between d0 and d1
