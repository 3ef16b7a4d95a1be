-- Per session in [d0, d1], the clients existing on it: their mart.client_running row (the
-- totals up to and including that session) with the session's own values from client_daily.
create or replace temp macro int_client_running_day(d0, d1) as table
select r.*, d.total_assets, d.cash_balance, d.market_value, d.cost_amount
from mart.client_running as r
inner join mart.client_daily as d on d.as_of_date = r.as_of_date and d.client_id = r.client_id
where r.as_of_date between d0 and d1 and r.present
