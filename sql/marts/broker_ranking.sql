-- mart.broker_ranking: brokers ranked by revenue per period touching $start .. $end (spec 4).
select * rename (group_id as broker_id)
from int_ranking($start, $end, $effective_assets, 'broker', $period_types)
