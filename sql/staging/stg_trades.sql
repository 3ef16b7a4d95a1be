-- The executions of sessions d0 .. d1 as the trades extract has them (typed by the loader):
-- the broker books' recent trades read them through this macro, as reports read no raw table.
create or replace temp macro stg_trades(d0, d1) as table
select
    as_of_date,
    trade_id,
    client_id,
    trade_date,
    trade_time,
    market,
    security_code,
    side,
    quantity,
    price,
    amount,
    commission
from raw.trades
where as_of_date between d0 and d1
