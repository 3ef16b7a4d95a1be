-- mart.team_ranking: teams ranked by revenue per period touching the chunk (spec 4),
-- from the chunk's rankings (sql/marts/rankings.sql).
select * exclude (kind, period_end) rename (group_id as team_id)
from rankings
where kind = 'team'
