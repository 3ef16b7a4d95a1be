-- Days on which value_share does not add up to 1 (days with no revenue at all are exempt).
select as_of_date, sum(value_share) as total_share, sum(revenue_w) as total_revenue
from mart.client_windows
where as_of_date between $start and $end
group by as_of_date
having sum(revenue_w) <> 0 and abs(sum(value_share) - 1) > 1e-9
