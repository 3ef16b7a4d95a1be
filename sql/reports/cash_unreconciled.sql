-- Clients of $day whose cash moved beyond what transfers and trades explain
-- (quality.warnings, kind 'cash_unreconciled': one row per day, or none).
select
    coalesce(sum(clients), 0) as clients,
    any_value(detail) as detail
from quality.warnings
where as_of_date = $day and kind = 'cash_unreconciled'
