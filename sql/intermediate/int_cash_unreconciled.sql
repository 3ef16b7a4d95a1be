-- Clients whose cash moved by more than 0.01 CNY beyond what transfers, other flows and
-- trades explain, per session of d0 .. d1:
-- cash(D) = cash(prev) + deposits - withdrawals + other flows (interest, dividends, their tax;
-- the cash file's optional other_flow_amount, empty = 0) - buys (amount + fees) + sells (amount - fees).
-- exchange_fee is inside commission, so it is not subtracted again. `rejected_trades`: the
-- client has trade rows in quality.rejects that day, which usually explain the gap.
-- `probable_interest`: a credit of at most interest_share of the previous balance, i.e. an
-- interest credit (结息) or similar the cash file did not itemise in other_flow_amount.
create or replace temp macro int_cash_unreconciled(d0, d1, interest_share) as table
with

flows as (
    select
        as_of_date,
        client_id,
        sum(case
            when side = 'B' then -(amount + commission + stamp_tax + transfer_fee)
            else amount - commission - stamp_tax - transfer_fee
        end) as trade_flow
    from raw.trades
    where as_of_date between d0 and d1
    group by all
),

rejected as (
    select distinct as_of_date, json_extract_string(raw_row, '$.client_id') as client_id
    from quality.rejects
    where as_of_date between d0 and d1 and file like 'trades.%'
),

cash as (
    select c.*, s.prev_session
    from raw.cash as c
    inner join ref.sessions as s on s.session_date = c.as_of_date
    where c.as_of_date between d0 and d1
),

compared as (
    select
        c.as_of_date,
        c.client_id,
        p.cash_balance as prev_cash,
        c.cash_balance,
        p.cash_balance + c.deposit_amount - c.withdraw_amount + coalesce(c.other_flow_amount, 0)
            + coalesce(f.trade_flow, 0) as expected_cash
    from cash as c
    inner join raw.cash as p on p.client_id = c.client_id and p.as_of_date = c.prev_session
    left join flows as f on f.client_id = c.client_id and f.as_of_date = c.as_of_date
)

select
    c.*,
    c.cash_balance - c.expected_cash as gap,
    r.client_id is not null as rejected_trades,
    c.cash_balance > c.expected_cash and c.cash_balance - c.expected_cash <= interest_share * greatest(c.prev_cash, 0)
        as probable_interest
from compared as c
left join rejected as r on r.as_of_date = c.as_of_date and r.client_id = c.client_id
where abs(c.cash_balance - c.expected_cash) > 0.01
