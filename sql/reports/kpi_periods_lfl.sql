-- For each calendar period containing $day: the first sessions of its previous period, as
-- many as the period has to $day (同期可比), with the same measures as kpi_periods.sql and
-- the exchange sessions they should cover (calendar_sessions) against the loaded ones.
select *
from int_branch_period_sums($day, $day, like_for_like := true)
