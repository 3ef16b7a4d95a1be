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
-- One row per model fit or scoring: which version, on what, how good.
create table if not exists mart.model_runs (
    run_at timestamp not null, model varchar not null, version varchar not null,
    as_of_date date, train_start date, train_end date, rows_train bigint,
    metric_name varchar, metric_value double, note varchar
);
