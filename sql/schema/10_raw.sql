-- Typed extracts, one table per file, each row stamped with its folder's session.
create schema if not exists raw;
create schema if not exists quality;
create schema if not exists ref;
create schema if not exists mart;

create table if not exists ref.sessions (
    session_date date primary key,
    session_idx integer not null,
    prev_session date,
    next_session date
);

-- The repository's securities reference (data/reference/securities.parquet, column `code` as
-- security_code): a security's name and industry. Like ref.sessions it is no extract and has no
-- writer: core.reference.load_securities (re)loads it when the file differs (docs/decisions.md).
create table if not exists ref.securities (
    market varchar not null,
    security_code varchar not null,
    security_name varchar,
    industry varchar,
    primary key (market, security_code)
);

create table if not exists raw.clients (
    as_of_date date not null, client_id varchar not null, client_name varchar,
    id_number varchar, phone varchar, gender varchar, birth_date date, open_date date,
    close_date date, broker_id varchar, risk_level varchar, channel varchar, city varchar
);
create table if not exists raw.brokers (
    as_of_date date not null, broker_id varchar not null, broker_name varchar,
    team_id varchar, team_name varchar, branch_id varchar, branch_name varchar, hire_date date
);
create table if not exists raw.trades (
    as_of_date date not null, trade_id varchar not null, client_id varchar not null,
    trade_date date, trade_time time, market varchar, security_code varchar, side varchar,
    quantity bigint, price double, amount double, commission double, exchange_fee double,
    stamp_tax double, transfer_fee double, channel varchar
);
create table if not exists raw.positions (
    as_of_date date not null, client_id varchar not null, market varchar,
    security_code varchar, quantity bigint, cost_amount double
);
create table if not exists raw.cash (
    as_of_date date not null, client_id varchar not null, cash_balance double,
    deposit_amount double, withdraw_amount double, other_flow_amount double
);
-- added with the cash file's optional column (a warehouse of an earlier version gets it empty)
alter table raw.cash add column if not exists other_flow_amount double;
create table if not exists raw.quotes (
    as_of_date date not null, market varchar, security_code varchar,
    security_name varchar, close double, prev_close double
);
create table if not exists raw.market (
    as_of_date date not null, market varchar, turnover_amount double
);

-- Rows kept out of raw.*, with why; row_number is the 1-based data row (header excluded).
create table if not exists quality.rejects (
    as_of_date date not null, file varchar, row_number bigint, column_name varchar,
    reason varchar, raw_row varchar
);
-- Cells of optional columns whose value was invalid: loaded as NULL, the row kept (same columns).
create table if not exists quality.nulled (
    as_of_date date not null, file varchar, row_number bigint, column_name varchar,
    reason varchar, raw_row varchar
);
-- One row per file and day: what was read, loaded and rejected.
create table if not exists quality.loads (
    as_of_date date not null, file varchar, format varchar, rows_read bigint,
    rows_loaded bigint, rows_rejected bigint, loaded_at timestamp
);
-- What the session's results are a function of (core/fingerprint.py): each file's digest,
-- one fingerprint of the session's files, the settings and the code, and the basis (the
-- settings and the code alone).
alter table quality.loads add column if not exists digest varchar;
alter table quality.loads add column if not exists fingerprint varchar;
alter table quality.loads add column if not exists basis varchar;
-- The sessions whose whole run completed, and the fingerprint they were computed from.
create table if not exists quality.published (
    as_of_date date not null, fingerprint varchar, basis varchar, published_at timestamp
);
-- Data warnings: rows that loaded but needed a fallback (e.g. a stale quote).
create table if not exists quality.warnings (
    as_of_date date not null, kind varchar, market varchar, security_code varchar,
    clients bigint, detail varchar
);
