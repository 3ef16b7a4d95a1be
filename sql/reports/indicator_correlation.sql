select indicator_a, indicator_b, spearman, clients
from mart.indicator_correlation
where as_of_date = $day
order by indicator_a, indicator_b
