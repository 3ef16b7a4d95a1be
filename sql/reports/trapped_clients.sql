-- Trapped positions of $day in the $top securities of trapped_top.sql, at most $per_security
-- per security, deepest loss first, with the client's broker (snapshot of $day).
with

top as (
    select market, security_code
    from mart.security_trapped
    where as_of_date = $day and trapped_holders > 0
    order by trapped_holders desc, trapped_loss desc, market, security_code
    limit $top
),

positions as (
    select p.*
    from int_positions_valued($day, $day, $trap_threshold) as p
    semi join top as t on t.market = p.market and t.security_code = p.security_code
    where p.is_trapped
),

ranked as (
    select
        *,
        row_number() over (
            partition by market, security_code
            order by cost_amount - market_value desc, client_id
        ) as n
    from positions
)

select
    r.market,
    r.security_code,
    r.client_id,
    k.client_name,
    k.broker_name,
    r.quantity,
    r.cost_amount,
    r.market_value,
    r.cost_amount - r.market_value as loss_amount,
    r.loss,
    int_trapped_level(r.cost_amount - r.market_value, r.cost_amount, $medium_level, $deep_level) as level
from ranked as r
left join mart.client_directory as k on k.as_of_date = $day and k.client_id = r.client_id
where r.n <= $per_security
order by r.market, r.security_code, r.n
