-- Brokers and teams (grp = 'broker' | 'team') over the $period_type containing $day, to
-- $day: the marts' own model (sql/intermediate/int_ranking.sql) evaluated at $day, so a
-- past day's report shows that day's standing and the ranking logic lives in one place.
-- ranking_period_stored.sql reads the same rows from the marts when they run to $day.
select kind as grp, * exclude (kind, period_end)
from int_ranking($day, $day, $effective_assets, [$period_type])
order by grp, rank
