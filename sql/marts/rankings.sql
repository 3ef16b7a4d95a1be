-- Broker and team rankings (column kind) of the periods touching $start .. $end, computed
-- once per chunk into the temp table `rankings` that broker_ranking.sql, team_ranking.sql
-- and ranking_periods.sql split (pipelines/warehouse.py::rebuild_rankings).
select * from int_ranking($start, $end, $effective_assets, $period_types)
