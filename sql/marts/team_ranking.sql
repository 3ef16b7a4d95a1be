-- mart.team_ranking: teams ranked by revenue per period touching $start .. $end (spec 4).
select * rename (group_id as team_id)
from int_ranking($start, $end, $effective_assets, 'team', $period_types)
