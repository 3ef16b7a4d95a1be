-- What readers see under the spec's names: views over the tables that hold each number.
create or replace view mart.client_indicators as
select w.*, s.segment, c.churn_risk
from mart.client_windows as w
left join mart.client_segments as s using (as_of_date, client_id)
left join mart.churn_scores as c using (as_of_date, client_id);

create or replace view mart.model_runs as
select * from model.segmentation_runs
union all
select * from model.churn_runs;

-- Directories of a session's snapshot, for the report's lists (names are PII: the report
-- masks them): a client with its broker and team, a broker with its team and branch, a
-- security's name and closes.
create or replace view mart.client_directory as
select k.as_of_date, k.client_id, k.client_name, k.phone, k.broker_id, b.broker_name, b.team_id, b.team_name
from raw.clients as k
left join raw.brokers as b on b.as_of_date = k.as_of_date and b.broker_id = k.broker_id;

create or replace view mart.broker_directory as
select as_of_date, broker_id, broker_name, team_id, team_name, branch_id, branch_name
from raw.brokers;

create or replace view mart.security_quotes as
select as_of_date, market, security_code, security_name, close, prev_close
from raw.quotes;
