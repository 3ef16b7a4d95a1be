-- Negative cash or non-positive positions in the warehouse (validation should have stopped them).
select as_of_date, client_id, 'cash_balance' as column_name, cash_balance as value
from raw.cash
where as_of_date between $start and $end and cash_balance < 0
union all
select as_of_date, client_id, 'quantity', quantity
from raw.positions
where as_of_date between $start and $end and quantity <= 0
union all
select as_of_date, client_id, 'cost_amount', cost_amount
from raw.positions
where as_of_date between $start and $end and cost_amount < 0
