-- mart.client_channel_month (internal): per month touching $start .. $end, client and trading
-- channel, its trades over the month's sessions up to $end (a trade without a channel is
-- `unknown`). channel_period's months, quarters, halves and years add these up, so a session
-- re-reads its month's trades, not its year's.
select
    date_trunc('month', as_of_date)::date as month_start,
    client_id,
    coalesce(channel, 'unknown') as channel,
    count(*) as trade_count,
    sum(amount) as trade_amount,
    sum(commission) as commission,
    sum(commission - exchange_fee) as net_commission
from raw.trades
where as_of_date between date_trunc('month', $start)::date and $end
group by all
