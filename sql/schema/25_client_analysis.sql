-- The tables of docs/spec/client-analysis.md, with exactly the spec's column names (plus the
-- period bounds and counts the spec's formulas use, so that a reader can check them).
-- The two widest per-client tables name each column's compression, the one DuckDB picks for it
-- anyway (fsst for the client id, a dictionary for a few distinct values): it then skips trying
-- the others on every row group written, a quarter of their insert (client_profile 1.65 -> 1.20 s,
-- client_habits 1.11 -> 0.92 s for a 20-session chunk at 50k clients; docs/performance.md).
create table if not exists mart.client_profile (
    as_of_date date not null, client_id varchar not null using compression fsst,
    age integer, age_band varchar using compression dictionary, tenure_band varchar using compression dictionary,
    gender varchar using compression dictionary, open_channel varchar using compression dictionary,
    city varchar using compression dictionary, risk_level varchar using compression dictionary,
    preferred_board varchar using compression dictionary, main_channel varchar using compression dictionary,
    avg_trade_hour double
);
create table if not exists mart.value_by_tier (
    as_of_date date not null, period_type varchar not null, wealth_tier varchar not null,
    sessions bigint, clients bigint, total_assets double, revenue double, revenue_share double,
    revenue_per_client double, avg_assets double, profitability double
);
create table if not exists mart.value_concentration (
    as_of_date date not null, period_type varchar not null,
    clients bigint, revenue double, top1_share double, top5_share double, top20_share double,
    gini double, top_tier varchar, worth_ratio double
);
create table if not exists mart.attribute_profile (
    as_of_date date not null, attribute varchar not null, category varchar not null,
    clients bigint, total_assets double, revenue_w double, avg_activity double,
    avg_turnover_annual double, dormant_share double, churned_60 bigint,
    stable_share double, aggressive_share double, conservative_share double, inactive_share double
);
create table if not exists mart.attribute_association (
    as_of_date date not null, attribute varchar not null,
    n bigint, categories bigint, segments bigint, cramers_v double
);
create table if not exists mart.coholding (
    as_of_date date not null, market_a varchar not null, security_a varchar not null,
    market_b varchar not null, security_b varchar not null,
    n_a bigint, n_b bigint, n_ab bigint, lift double
);
create table if not exists mart.channel_period (
    period_type varchar not null, period_start date not null, period_end date, channel varchar not null,
    trade_count bigint, trade_amount double, commission double, net_commission double,
    clients bigint, amount_share double
);
create table if not exists mart.client_flow (
    month_start date not null, month_end date, opened bigint, closed bigint, churned bigint,
    went_dormant bigint, woke_up bigint, clients_end bigint, new_assets double
);
-- Beyond the page: the loyalty score and its components (sql/marts/client_loyalty.sql).
create table if not exists mart.client_loyalty (
    as_of_date date not null, client_id varchar not null,
    tenure double, presence double, retention double, transfers double, regularity double, loyalty double
);
-- Internal: per session, the clients whose state changed (what client_flow counts per month).
create table if not exists mart.client_changes (
    as_of_date date not null, client_id varchar not null,
    opened boolean, closed boolean, churned boolean, went_dormant boolean, woke_up boolean
);
-- Internal: per month, client and trading channel, the month's trades (channel_period adds them up).
create table if not exists mart.client_channel_month (
    month_start date not null, client_id varchar not null, channel varchar not null,
    trade_count bigint, trade_amount double, commission double, net_commission double
);
-- Beyond the page (docs/spec/client-analysis.md, "Beyond the page"): the loyalty score by group
-- and its movers, what clients hold and how long, industries trapped together, and the client
-- base's month-end projection.
create table if not exists mart.loyalty_distribution (
    as_of_date date not null, group_type varchar not null, group_value varchar not null,
    clients bigint, mean double, p25 double, median double, p75 double, low_share double, high_share double
);
create table if not exists mart.loyalty_movers (
    as_of_date date not null, client_id varchar not null, direction varchar, rank bigint,
    then_date date, loyalty_then double, loyalty_now double, change double
);
create table if not exists mart.client_habits (
    as_of_date date not null, client_id varchar not null using compression fsst,
    top_industry varchar using compression dictionary, top_industry_share double,
    industries bigint, trapped_in varchar[], market_value_w double, sell_amount_w double,
    holding_sessions double
);
create table if not exists mart.trapped_industries (
    as_of_date date not null, industry_a varchar not null, industry_b varchar not null,
    n_a bigint, n_b bigint, n_ab bigint, lift double
);
-- Internal: per session, the clients that left on it (their month's first close or churn) and the
-- assets they held before.
create table if not exists mart.client_exits (
    as_of_date date not null, client_id varchar not null, closed boolean, churned boolean, assets_before double
);
create table if not exists mart.flow_projection (
    month_start date not null, month_end date, complete boolean, clients_end bigint, assets_end double,
    new_assets double, lost_assets double, basis_months integer, projected_clients double,
    projected_assets double, clients_error double, assets_error double, next_clients double, next_assets double
);
