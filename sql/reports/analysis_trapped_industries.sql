-- Industries clients are trapped in together on $day (mart.trapped_industries, each pair once:
-- industry_a before industry_b by name), largest lift first, the first $top; with the number of
-- clients trapped in some industry (mart.client_habits.trapped_in), the lift's N.
select
    t.industry_a,
    t.industry_b,
    t.n_a,
    t.n_b,
    t.n_ab,
    t.lift,
    (select count(*) from mart.client_habits where as_of_date = $day and trapped_in is not null) as trapped_clients
from mart.trapped_industries as t
where t.as_of_date = $day and t.industry_a < t.industry_b
order by t.lift desc, t.n_ab desc, t.industry_a, t.industry_b
limit $top
