-- Clients whose cash moved by more than 0.01 CNY beyond what transfers and trades explain:
-- cash(D) = cash(prev) + deposits - withdrawals - buys (amount + fees) + sells (amount - fees).
-- exchange_fee is inside commission, so it is not subtracted again.
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
    where as_of_date between $start and $end
    group by all
),

cash as (
    select c.*, s.prev_session
    from raw.cash as c
    inner join ref.sessions as s on s.session_date = c.as_of_date
    where c.as_of_date between $start and $end
)

select
    c.as_of_date,
    c.client_id,
    p.cash_balance as prev_cash,
    c.cash_balance,
    p.cash_balance + c.deposit_amount - c.withdraw_amount + coalesce(f.trade_flow, 0) as expected_cash
from cash as c
inner join raw.cash as p on p.client_id = c.client_id and p.as_of_date = c.prev_session
left join flows as f on f.client_id = c.client_id and f.as_of_date = c.as_of_date
where abs(c.cash_balance - (p.cash_balance + c.deposit_amount - c.withdraw_amount + coalesce(f.trade_flow, 0))) > 0.01
