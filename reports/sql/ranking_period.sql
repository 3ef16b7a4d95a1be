-- Brokers and teams (grp = 'broker' | 'team') over the $period_type containing $day, to
-- $day: the marts' own model (sql/intermediate/int_ranking.sql) evaluated at $day, so a
-- past day's report shows that day's standing and the ranking logic lives in one place.
select 'broker' as grp, *
from int_ranking($day, $day, $effective_assets, 'broker', [$period_type])
union all by name
select 'team' as grp, *
from int_ranking($day, $day, $effective_assets, 'team', [$period_type])
order by grp, rank
