-- The clients whose loyalty moved most on $day since the previous month's last session
-- (mart.loyalty_movers), the first $top of each direction, with the client's name (PII:
-- reports.queries masks it) and broker from the day's directory.
select
    m.direction,
    m.rank,
    m.client_id,
    k.client_name,
    k.broker_name,
    m.then_date,
    m.loyalty_then,
    m.loyalty_now,
    m.change
from mart.loyalty_movers as m
left join mart.client_directory as k on k.as_of_date = m.as_of_date and k.client_id = m.client_id
where m.as_of_date = $day and m.rank <= $top
order by m.direction desc, m.rank
