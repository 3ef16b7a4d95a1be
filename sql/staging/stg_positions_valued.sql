-- Each end-of-day position valued at its close. A security missing from the day's
-- quotes takes its latest earlier close (ASOF join) and is flagged as stale.
create or replace macro stg_positions_valued(d0, d1, trap_threshold) as table
with

positions as (
    select as_of_date, client_id, market, security_code, quantity, cost_amount
    from raw.positions
    where as_of_date between d0 and d1
),

quotes as (
    select as_of_date as quote_date, market, security_code, close
    from raw.quotes
    where as_of_date <= d1
),

final as (
    select
        p.as_of_date,
        p.client_id,
        p.market,
        p.security_code,
        p.quantity,
        p.cost_amount,
        q.close,
        q.quote_date,
        q.quote_date < p.as_of_date or q.quote_date is null as stale_quote,
        p.quantity * q.close as market_value,
        -- loss = 1 - market value / cost; a position is trapped from trap_threshold up
        case when p.cost_amount > 0 then 1 - p.quantity * q.close / p.cost_amount end as loss,
        coalesce(p.cost_amount > 0 and 1 - p.quantity * q.close / p.cost_amount >= trap_threshold, false) as is_trapped
    from positions as p
    asof left join quotes as q
        on p.market = q.market
        and p.security_code = q.security_code
        and p.as_of_date >= q.quote_date
)

select * from final
