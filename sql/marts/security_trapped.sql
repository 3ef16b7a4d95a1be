-- mart.security_trapped: per security held on $start .. $end, who is trapped in it and how deep.
with

positions as (
    select *, int_trapped_level(cost_amount - market_value, cost_amount, $medium_level, $deep_level) as level
    from int_positions_valued($start, $end, $trap_threshold)
),

-- A client holds a security once a day (raw.positions is unique on the day, client and
-- security: ingest keeps the first duplicate), so its holders are counted rows, not a
-- DISTINCT set per security.
final as (
    select
        as_of_date,
        market,
        security_code,
        count(*) as holders,
        count(*) filter (where is_trapped) as trapped_holders,
        coalesce(sum(cost_amount) filter (where is_trapped), 0) as trapped_cost,
        coalesce(sum(cost_amount - market_value) filter (where is_trapped), 0) as trapped_loss,
        sum(cost_amount - market_value) filter (where is_trapped)
            / nullif(sum(cost_amount) filter (where is_trapped), 0) as avg_loss,
        count(*) filter (where is_trapped and level = 'light') as light_holders,
        count(*) filter (where is_trapped and level = 'medium') as medium_holders,
        count(*) filter (where is_trapped and level = 'deep') as deep_holders
    from positions
    group by as_of_date, market, security_code
)

select * from final
