-- mart.ranking_periods (internal): the session each period of the chunk's rankings runs to.
select distinct period_type, period_start, period_end
from rankings
