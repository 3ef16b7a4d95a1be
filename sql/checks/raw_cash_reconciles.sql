-- Sessions on which more than $max_unreconciled_share of the clients with a previous cash row
-- have cash that transfers and trades do not explain (int_cash_unreconciled; probable interest
-- credits aside): the cash or trades file is wrong or incomplete, not some rows. Fewer are a
-- warning (quality.warnings, kind 'cash_unreconciled'), not a stopped night: one rejected
-- trade leaves its client's cash unexplained. Reports the client with the largest gap.
with

unreconciled as (
    select as_of_date, count(*) as clients,
        arg_max(client_id, abs(gap)) as client_id,
        arg_max(cash_balance, abs(gap)) as cash_balance,
        arg_max(expected_cash, abs(gap)) as expected_cash
    from int_cash_unreconciled($start, $end, $interest_credit_share)
    where not probable_interest
    group by as_of_date
),

compared as (
    select c.as_of_date, count(*) as clients_compared
    from raw.cash as c
    inner join ref.sessions as s on s.session_date = c.as_of_date
    inner join raw.cash as p on p.client_id = c.client_id and p.as_of_date = s.prev_session
    where c.as_of_date between $start and $end
    group by c.as_of_date
)

select u.as_of_date, u.clients as unreconciled_clients, c.clients_compared,
    u.client_id, u.cash_balance, u.expected_cash
from unreconciled as u
inner join compared as c using (as_of_date)
where u.clients > $max_unreconciled_share * c.clients_compared
order by u.as_of_date
