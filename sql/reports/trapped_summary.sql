-- Trapped clients of $day (spec 2: is_trapped, trapped_level) in one row.
select
    count(*) as clients,
    count(*) filter (where is_trapped) as trapped_clients,
    count(*) filter (where trapped_level = 'light') as light_clients,
    count(*) filter (where trapped_level = 'medium') as medium_clients,
    count(*) filter (where trapped_level = 'deep') as deep_clients,
    avg(trapped_ratio) filter (where trapped_level <> 'none') as avg_trapped_ratio
from mart.client_indicators
where as_of_date = $day
