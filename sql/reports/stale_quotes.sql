-- Positions of $day valued at an earlier close because the security had no quote that day
-- (quality.warnings: one row per stale security, `clients` = its positions, a client holding
-- a security once a day).
select
    coalesce(sum(clients), 0) as stale_positions,
    count(*) as stale_securities
from quality.warnings
where as_of_date = $day and kind = 'stale_quote'
