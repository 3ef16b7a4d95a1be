-- Per client and day: count, amount and fees of the day's executions.
create or replace temp macro int_client_trades(d0, d1) as table
select
    as_of_date,
    client_id,
    count(*) as trade_count,
    sum(amount) as trade_amount,
    sum(commission) as commission,
    sum(exchange_fee) as exchange_fee
from raw.trades
where as_of_date between d0 and d1
group by as_of_date, client_id
