-- The client cards' holdings (reports/books.py): every position of $day valued at its close
-- (int_positions_valued, as the trapped marts value it) with the security's name of the day's
-- quotes and, for a trapped position, its depth (loss / cost) and level (int_trapped_level).
select
    p.client_id,
    p.market,
    p.security_code,
    q.security_name,
    p.quantity,
    p.cost_amount,
    p.market_value,
    case when p.is_trapped then p.loss end as trapped_depth,
    case
        when p.is_trapped
            then int_trapped_level(p.cost_amount - p.market_value, p.cost_amount, $medium_level, $deep_level)
    end as trapped_level
from int_positions_valued($day, $day, $trap_threshold) as p
left join mart.security_quotes as q
    on q.as_of_date = p.as_of_date and q.market = p.market and q.security_code = p.security_code
order by p.client_id, p.market_value desc nulls last, p.market, p.security_code
