-- Positions of $day valued at an earlier close because the security had no quote that day.
select
    count(*) filter (where stale_quote) as stale_positions,
    count(distinct (market, security_code)) filter (where stale_quote) as stale_securities
from stg_positions_valued($day, $day, $trap_threshold)
