-- Negative cash or non-positive positions in the warehouse (validation should have stopped them).
-- A holding cost at or below zero is allowed: diluted cost after profitable sells.
select as_of_date, client_id, 'cash_balance' as column_name, cash_balance as value
from raw.cash
where as_of_date between $start and $end and cash_balance < 0
union all
select as_of_date, client_id, 'quantity', quantity
from raw.positions
where as_of_date between $start and $end and quantity <= 0
