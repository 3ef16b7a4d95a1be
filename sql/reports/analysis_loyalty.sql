-- The loyalty score's distribution on $day (mart.loyalty_distribution): all clients first, then
-- the segments and the wealth tiers in their usual order.
select *
from mart.loyalty_distribution
where as_of_date = $day
order by
    list_position(['all', 'segment', 'wealth_tier'], group_type),
    list_position(['all', 'stable', 'aggressive', 'conservative', 'inactive', 'none',
                   'mass', 'affluent', 'wealth', 'hnw', 'uhnw'], group_value) nulls last,
    group_value
