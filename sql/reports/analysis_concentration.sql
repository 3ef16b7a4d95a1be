-- How concentrated the month's revenue to $day is over the clients on $day
-- (mart.value_concentration): top 1 / 5 / 20 % shares, Gini, top tier and its worth in mass
-- clients.
select *
from mart.value_concentration
where as_of_date = $day and period_type = 'month'
