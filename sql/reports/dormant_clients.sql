-- Dormant clients of $day worth a call (spec 2: is_dormant), largest assets first.
select
    i.client_id,
    k.client_name,
    k.phone,
    k.broker_name,
    k.team_name,
    c.total_assets,
    c.cash_balance,
    c.market_value,
    i.unrealized_pnl,
    i.days_since_last_trade,
    i.tenure_days,
    i.wealth_tier,
    i.trapped_level
from mart.client_indicators as i
inner join mart.client_daily as c on c.as_of_date = i.as_of_date and c.client_id = i.client_id
left join mart.client_directory as k on k.as_of_date = i.as_of_date and k.client_id = i.client_id
where i.as_of_date = $day and i.is_dormant
order by c.total_assets desc, i.client_id
limit $top
