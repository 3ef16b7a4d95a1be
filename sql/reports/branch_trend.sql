-- The branch's last $sessions sessions up to $day, oldest first.
select *
from (
    select as_of_date, clients, effective_clients, active_clients, total_assets, net_inflow,
        trade_amount, commission, net_commission, revenue, commission_rate, market_share
    from mart.branch_daily
    where as_of_date <= $day
    order by as_of_date desc
    limit $sessions
)
order by as_of_date
