-- The securities each client holds (quantity > 0) on sessions d0 .. d1, as the positions
-- extract has them: mart.coholding counts them, and the report's co-holding table counts the
-- same holders through this macro (reports read no raw table). One row per client and
-- security already: raw.positions' key (the loader rejects duplicates, core.extracts.KEYS),
-- so no distinct (it cost 40 % of mart.coholding).
create or replace temp macro stg_positions_held(d0, d1) as table
select as_of_date, client_id, market, security_code
from raw.positions
where as_of_date between d0 and d1 and quantity > 0
