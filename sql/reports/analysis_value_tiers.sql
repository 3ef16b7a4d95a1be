-- The wealth tiers of the clients on $day, month to date (mart.value_by_tier), lowest tier
-- first, with each tier's share of the clients and of their assets.
select
    *,
    clients / sum(clients) over () as client_share,
    total_assets / nullif(sum(total_assets) over (), 0) as asset_share
from mart.value_by_tier
where as_of_date = $day and period_type = 'month'
order by list_position(['mass', 'affluent', 'wealth', 'hnw', 'uhnw'], wealth_tier) nulls last, wealth_tier
