-- The headline figures of each day in the reports' index (reports/render.render_index).
select as_of_date, total_assets, net_inflow, trade_amount, revenue, active_clients, market_share
from mart.branch_daily
where as_of_date in (select unnest($days))
