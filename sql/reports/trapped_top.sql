-- The $top securities with the most trapped holders on $day (mart.security_trapped),
-- named from the day's quotes.
select
    t.market,
    t.security_code,
    coalesce(q.security_name, t.security_code) as security_name,
    q.close,
    q.close / nullif(q.prev_close, 0) - 1 as day_change,
    t.holders,
    t.trapped_holders,
    t.trapped_cost,
    t.trapped_loss,
    t.avg_loss,
    t.light_holders,
    t.medium_holders,
    t.deep_holders
from mart.security_trapped as t
left join mart.security_quotes as q
    on q.as_of_date = t.as_of_date and q.market = t.market and q.security_code = t.security_code
where t.as_of_date = $day and t.trapped_holders > 0
order by t.trapped_holders desc, t.trapped_loss desc, t.market, t.security_code
limit $top
