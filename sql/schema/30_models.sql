-- Outputs of the scikit-learn models (models/): segments, churn risk and their audit trail.
create table if not exists mart.segment_profile (
    as_of_date date not null, segment varchar not null, clients bigint, share double,
    avg_turnover_rate_annual double, avg_activity double, avg_concentration double,
    avg_cash_ratio double, avg_trade_size double, avg_pnl_volatility double,
    avg_profitability double, avg_total_assets double, total_assets double,
    revenue_w double, revenue_share double, model_version varchar
);
-- horizon: 'day' (previous session -> as_of_date) or 'month' (same day a month before).
create table if not exists mart.segment_transitions (
    as_of_date date not null, horizon varchar not null, from_segment varchar,
    to_segment varchar, clients bigint
);
create table if not exists mart.indicator_correlation (
    as_of_date date not null, indicator_a varchar not null, indicator_b varchar not null,
    spearman double, clients bigint
);
-- The churn score's top drivers per client (feature name and its contribution).
create table if not exists mart.churn_drivers (
    as_of_date date not null, client_id varchar not null, churn_risk double,
    driver_1 varchar, driver_2 varchar, driver_3 varchar
);
create table if not exists mart.client_segments (
    as_of_date date not null, client_id varchar not null, segment varchar not null, model_version varchar
);
create table if not exists mart.churn_scores (
    as_of_date date not null, client_id varchar not null, churn_risk double not null, model_version varchar
);
-- One row per model fit or scoring and metric: which version, on what, how good
-- (the view mart.model_runs is both models' rows).
create schema if not exists model;
create table if not exists model.segmentation_runs (
    run_at timestamp not null, model varchar not null, version varchar not null,
    as_of_date date, train_start date, train_end date, rows_train bigint,
    metric_name varchar, metric_value double, note varchar
);
create table if not exists model.churn_runs (
    run_at timestamp not null, model varchar not null, version varchar not null,
    as_of_date date, train_start date, train_end date, rows_train bigint,
    metric_name varchar, metric_value double, note varchar
);
-- Fitted models (joblib bytes) by version, fitted on as_of_date: a copy of the warehouse
-- file carries them, so a rerun on a copy uses the same models as on the original.
create table if not exists model.segmentation_versions (
    version varchar not null, as_of_date date not null, artefact blob not null
);
create table if not exists model.churn_versions (
    version varchar not null, as_of_date date not null, artefact blob not null
);
-- The models' inputs per client-day (sql/features/client_features.sql): segmentation's
-- (seg_*) and churn's features, stored once so a churn fit reads them instead of
-- recomputing a year of windows.
create table if not exists mart.client_features (
    as_of_date date not null, client_id varchar not null, eligible boolean,
    seg_turnover double, seg_activity double, seg_concentration double, seg_cash_ratio double,
    seg_trade_size double, seg_volatility double, avg_trade_size double, pnl_volatility double,
    total_assets double, log_assets double, assets_to_peak double, net_outflow_share_w double,
    net_outflow_share_l double, withdraw_days_w bigint, activity_5 double, activity_w double,
    activity_l double, trade_trend double, assets_change_w double, market_value_change_w double,
    days_since_last_trade bigint, never_traded integer, cash_ratio double, concentration double,
    trapped_ratio double, pnl_rate double, log_tenure double, history_share double,
    churned_recently integer, holdings_cost_change_w double, withdraw_days_l bigint,
    active_days_5 bigint, present_days_5 bigint, active_days_l bigint, present_days_l bigint
);
-- the churn rule's inputs (docs/models.md), added to warehouses created before them
alter table mart.client_features add column if not exists holdings_cost_change_w double;
alter table mart.client_features add column if not exists withdraw_days_l bigint;
alter table mart.client_features add column if not exists active_days_5 bigint;
alter table mart.client_features add column if not exists present_days_5 bigint;
alter table mart.client_features add column if not exists active_days_l bigint;
alter table mart.client_features add column if not exists present_days_l bigint;
