-- The client cards' recent trades (reports/books.py): each client's last $trades executions
-- in the sessions $since .. $day, newest first, with the security's name of that session.
with

recent as (
    select *
    from stg_trades($since, $day)
    qualify row_number() over (
        partition by client_id order by trade_date desc, trade_time desc, trade_id desc
    ) <= $trades
),

final as (
    select
        t.client_id,
        t.as_of_date,
        t.trade_date,
        t.trade_time,
        t.trade_id,
        t.side,
        t.market,
        t.security_code,
        q.security_name,
        t.quantity,
        t.price,
        t.amount
    from recent as t
    left join mart.security_quotes as q
        on q.as_of_date = t.as_of_date and q.market = t.market and q.security_code = t.security_code
)

select *
from final
order by client_id, trade_date desc, trade_time desc, trade_id desc
