-- The tables of docs/spec/indicators.md, with exactly the spec's column names.
create table if not exists mart.client_daily (
    as_of_date date not null, client_id varchar not null,
    market_value double, cost_amount double, cash_balance double, total_assets double,
    net_inflow double, trade_count bigint, trade_amount double, commission double,
    exchange_fee double, net_commission double, interest_income double, revenue double,
    daily_pnl double
);
-- spec 2's indicators computed in SQL; the view mart.client_indicators (40_views.sql) adds
-- the model outputs segment and churn_risk.
create table if not exists mart.client_windows (
    as_of_date date not null, client_id varchar not null,
    present_days bigint, avg_assets double, trade_amount_w double, turnover_rate double,
    turnover_rate_annual double, turnover_band varchar, active_days bigint, activity double,
    net_commission_w double, interest_income_w double, revenue_w double, profitability double,
    value_share double, pnl_w double, pnl_rate double, unrealized_pnl double, cash_ratio double,
    concentration double, trapped_ratio double, trapped_depth double, trapped_level varchar,
    is_trapped boolean, days_since_last_trade bigint, is_effective boolean, is_dormant boolean,
    churn_event boolean, wealth_tier varchar, tenure_days bigint
);
create table if not exists mart.security_trapped (
    as_of_date date not null, market varchar not null, security_code varchar not null,
    holders bigint, trapped_holders bigint, trapped_cost double, trapped_loss double,
    avg_loss double, light_holders bigint, medium_holders bigint, deep_holders bigint
);
create table if not exists mart.branch_daily (
    as_of_date date not null, clients bigint, new_clients bigint, closed_clients bigint,
    effective_clients bigint, active_clients bigint, total_assets double, cash_balance double,
    market_value double, net_inflow double, trade_count bigint, trade_amount double,
    commission double, net_commission double, interest_income double, revenue double,
    commission_rate double, market_turnover double, market_share double
);
-- Calendar periods to date (period_end = last session included), *_chg vs the previous period.
create table if not exists mart.branch_period (
    period_type varchar not null, period_start date not null, period_end date, sessions bigint,
    clients bigint,
    new_clients bigint,
    closed_clients bigint,
    effective_clients bigint,
    active_clients bigint,
    total_assets double,
    avg_total_assets double,
    net_inflow double,
    trade_count bigint,
    trade_amount double,
    commission double,
    net_commission double,
    interest_income double,
    revenue double,
    commission_rate double,
    market_turnover double,
    market_share double,
    clients_chg double,
    new_clients_chg double,
    closed_clients_chg double,
    effective_clients_chg double,
    active_clients_chg double,
    total_assets_chg double,
    avg_total_assets_chg double,
    net_inflow_chg double,
    trade_count_chg double,
    trade_amount_chg double,
    commission_chg double,
    net_commission_chg double,
    interest_income_chg double,
    revenue_chg double,
    commission_rate_chg double,
    market_turnover_chg double,
    market_share_chg double,
    -- beyond the spec: data coverage and like-for-like changes (sql/marts/branch_period.sql)
    calendar_sessions bigint, first_session date, lfl_sessions bigint, lfl_calendar_sessions bigint,
    clients_lfl_chg double, new_clients_lfl_chg double, closed_clients_lfl_chg double, effective_clients_lfl_chg double, active_clients_lfl_chg double, total_assets_lfl_chg double, avg_total_assets_lfl_chg double, net_inflow_lfl_chg double, trade_count_lfl_chg double, trade_amount_lfl_chg double, commission_lfl_chg double, net_commission_lfl_chg double, interest_income_lfl_chg double, revenue_lfl_chg double, commission_rate_lfl_chg double, market_turnover_lfl_chg double, market_share_lfl_chg double
);
alter table mart.branch_period add column if not exists calendar_sessions bigint;
alter table mart.branch_period add column if not exists first_session date;
alter table mart.branch_period add column if not exists lfl_sessions bigint;
alter table mart.branch_period add column if not exists lfl_calendar_sessions bigint;
alter table mart.branch_period add column if not exists clients_lfl_chg double;
alter table mart.branch_period add column if not exists new_clients_lfl_chg double;
alter table mart.branch_period add column if not exists closed_clients_lfl_chg double;
alter table mart.branch_period add column if not exists effective_clients_lfl_chg double;
alter table mart.branch_period add column if not exists active_clients_lfl_chg double;
alter table mart.branch_period add column if not exists total_assets_lfl_chg double;
alter table mart.branch_period add column if not exists avg_total_assets_lfl_chg double;
alter table mart.branch_period add column if not exists net_inflow_lfl_chg double;
alter table mart.branch_period add column if not exists trade_count_lfl_chg double;
alter table mart.branch_period add column if not exists trade_amount_lfl_chg double;
alter table mart.branch_period add column if not exists commission_lfl_chg double;
alter table mart.branch_period add column if not exists net_commission_lfl_chg double;
alter table mart.branch_period add column if not exists interest_income_lfl_chg double;
alter table mart.branch_period add column if not exists revenue_lfl_chg double;
alter table mart.branch_period add column if not exists commission_rate_lfl_chg double;
alter table mart.branch_period add column if not exists market_turnover_lfl_chg double;
alter table mart.branch_period add column if not exists market_share_lfl_chg double;
create table if not exists mart.broker_ranking (
    period_type varchar not null, period_start date not null, broker_id varchar not null,
    clients bigint, effective_clients bigint, total_assets double, net_inflow double,
    trade_amount double, net_commission double, revenue double, new_clients bigint,
    active_ratio double, churned_clients bigint, avg_profitability double,
    rank bigint, prev_rank bigint
);
create table if not exists mart.team_ranking (
    period_type varchar not null, period_start date not null, team_id varchar not null,
    clients bigint, effective_clients bigint, total_assets double, net_inflow double,
    trade_amount double, net_commission double, revenue double, new_clients bigint,
    active_ratio double, churned_clients bigint, avg_profitability double,
    rank bigint, prev_rank bigint
);

-- Internal, not spec tables (see core/build.py::rebuild_rankings).
-- Per month and client, from all the month's loaded sessions: what the ranking periods
-- combine (sql/intermediate/int_client_calendar.sql), so a session re-reads one month of
-- client-days instead of a year's. snapshot_date / broker_id / open_date: the latest
-- raw.clients row of the month (also for clients without a client_daily row in it).
create table if not exists mart.client_month (
    month_start date not null, client_id varchar not null,
    net_inflow double, trade_amount double, net_commission double, revenue double,
    traded boolean, churned boolean, last_date date, last_assets double, last_profitability double,
    snapshot_date date, broker_id varchar, open_date date
);
-- the month's peak total_assets (a 12-month peak is the max of 12 rows: client_loyalty)
alter table mart.client_month add column if not exists peak_assets double;
-- The last session the stored broker_ranking and team_ranking rows of each period run to,
-- so the report can read them instead of recomputing its day's period.
create table if not exists mart.ranking_periods (
    period_type varchar not null, period_start date not null, period_end date not null
);
-- Running totals per client and session since its first row (sql/marts/client_running.sql),
-- dense over sessions; money totals DECIMAL so differences are exact.
create table if not exists mart.client_running (
    as_of_date date not null, client_id varchar not null, idx integer not null, present boolean,
    days bigint, active_days bigint, withdraw_days bigint, trade_count bigint,
    assets decimal(38, 10), market_value_sum decimal(38, 10), trade_amount decimal(38, 10), net_commission decimal(38, 10),
    interest_income decimal(38, 10), revenue decimal(38, 10), pnl decimal(38, 10), outflow decimal(38, 10),
    cash_ratio_days bigint, cash_ratio double, ret_days bigint, ret double, ret_sq double,
    peak_assets double, first_idx integer, last_trade_idx integer, in_churn boolean, churn_event boolean,
    last_churn_idx integer
);
alter table mart.client_running add column if not exists market_value_sum decimal(38, 10);
-- The parameters mart.client_running's churn test was computed with: other values rebuild it.
create table if not exists mart.client_running_params (lookback integer, churn_asset_share double,
    churn_outflow_share double, eligible_assets double);
