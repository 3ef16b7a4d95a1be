-- Data warnings, not rejects, one row per kind, security and day:
-- 'stale_quote': a held security missing from the day's quotes, valued at its latest
-- earlier close; 'cash_unreconciled' (no security): clients whose cash moved beyond what
-- transfers and trades explain (int_cash_unreconciled), usually a rejected trade row;
-- 'interest_credit': small credits taken as interest (结息) the cash file did not itemise.
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

union all

select
    as_of_date,
    'cash_unreconciled' as kind,
    null as market,
    null as security_code,
    count(*) as clients,
    count(*) filter (where rejected_trades) || ' with rejected trade rows; largest gap '
        || arg_max(client_id, abs(gap)) || ': ' || printf('%.2f', arg_max(gap, abs(gap))) || ' CNY' as detail
from int_cash_unreconciled($start, $end, $interest_credit_share)
where not probable_interest
group by as_of_date

union all

select
    as_of_date,
    'interest_credit' as kind,
    null as market,
    null as security_code,
    count(*) as clients,
    'credits without trade or transfer of at most ' || ($interest_credit_share * 100) || ' % of the balance, '
        || printf('%.2f', sum(gap)) || ' CNY in all: probable interest (结息)' as detail
from int_cash_unreconciled($start, $end, $interest_credit_share)
where probable_interest
group by as_of_date
