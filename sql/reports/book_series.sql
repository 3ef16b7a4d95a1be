-- The client cards' charts (reports/books.py): per client of $day, its total assets and traded
-- amount on each session $since .. $day, one character per session: the level's place in
-- $alphabet (levels 0 .. n-1, n its length) for assets between the client's lowest (lo) and
-- highest (hi) of the span, for trading between 0 and its largest day (top), a day with any
-- trade at least 1; $missing where the client had no row that session. Each session's code is
-- i x 100 + level so that sorting the numbers puts the characters in session order (an
-- ordered string_agg is 4x slower at 200k clients).
with

sessions as (
    select * from int_loaded_sessions($since, $day)
),

clients as (
    select client_id
    from mart.client_daily
    where as_of_date = $day
),

span as (
    select d.client_id, s.i, d.total_assets, d.trade_amount
    from mart.client_daily as d
    inner join sessions as s on s.as_of_date = d.as_of_date
    semi join clients as c on c.client_id = d.client_id
),

ranges as (
    select
        client_id,
        min(total_assets) as lo,
        max(total_assets) as hi,
        max(trade_amount) as top
    from span
    group by client_id
),

coded as (
    select
        r.client_id,
        r.lo,
        r.hi,
        r.top,
        s.i * 100 + case
            when d.total_assets is null then length($alphabet)
            when r.hi > r.lo then round((d.total_assets - r.lo) / (r.hi - r.lo) * (length($alphabet) - 1))::integer
            else (length($alphabet) - 1) // 2
        end as assets,
        s.i * 100 + case
            when d.trade_amount is null then length($alphabet)
            when r.top > 0 then ceil(d.trade_amount / r.top * (length($alphabet) - 1))::integer
            else 0
        end as trades
    from ranges as r
    cross join sessions as s
    left join span as d on d.client_id = r.client_id and d.i = s.i
),

final as (
    select
        client_id,
        lo,
        hi,
        top,
        array_to_string(list_transform(list_sort(list(assets)), x -> substr($alphabet || $missing, 1 + x % 100, 1)), '')
            as assets,
        array_to_string(list_transform(list_sort(list(trades)), x -> substr($alphabet || $missing, 1 + x % 100, 1)), '')
            as trades
    from coded
    group by client_id, lo, hi, top
)

select *
from final
