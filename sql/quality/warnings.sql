-- Held securities missing from the day's quotes: valued at their latest earlier close
-- (a data warning, not a reject). One row per security and day.
select
    as_of_date,
    'stale_quote' as kind,
    market,
    security_code,
    count(distinct client_id) as clients,
    'no quote on this day; valued at the close of ' || coalesce(strftime(max(quote_date), '%Y-%m-%d'), 'never (no quote at all)') as detail
from int_positions_valued($start, $end, $trap_threshold)
where stale_quote
group by as_of_date, market, security_code
