-- Per client and day: portfolio value, cost, concentration (HHI) and trapped cost.
create or replace temp macro int_client_holdings(d0, d1, trap_threshold) as table
with

positions as (
    select * from int_positions_valued(d0, d1, trap_threshold)
),

final as (
    select
        as_of_date,
        client_id,
        sum(market_value) as market_value,
        sum(cost_amount) as cost_amount,
        count(*) as positions,
        count(*) filter (where stale_quote) as stale_quotes,
        -- HHI = sum of squared weights mv / sum(mv), without a window over the client's rows
        sum(market_value * market_value) / power(sum(market_value), 2) as concentration,
        coalesce(sum(cost_amount) filter (where is_trapped), 0) as trapped_cost,
        coalesce(sum(cost_amount - market_value) filter (where is_trapped), 0) as trapped_loss
    from positions
    group by as_of_date, client_id
)

select * from final
