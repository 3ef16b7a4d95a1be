-- The clients back after a gap on a session D of d0 .. d1: a client_windows row on D, none on
-- the session before, and an earlier row. mart.client_running is dense from a client's first
-- row, so its row on the session before D exists and is not present. core.build.build_analysis
-- stores a chunk's rows in the temp table `client_gaps` for client_changes, which looks up their
-- latest earlier row: a table, not a CTE, because DuckDB knows a table's row count and then
-- hashes the few gaps, not the client_windows history they are joined with (from a CTE it
-- hashed every client_windows row: 0.7 s of 1.2 s on a 50k-client backfill chunk).
create or replace temp macro int_client_gaps(d0, d1) as table
with

days as (
    select session_date as as_of_date, session_idx
    from ref.sessions
    where session_date between d0 and d1
),

-- the absent rows of the sessions before the range's, keyed by the session they precede
absent_before as (
    select idx + 1 as next_idx, client_id
    from mart.client_running
    where idx between (select min(session_idx) from days) - 1 and (select max(session_idx) from days) - 1
        and not present
),

final as (
    select w.as_of_date, w.client_id
    from mart.client_windows as w
    inner join days as d on d.as_of_date = w.as_of_date
    inner join absent_before as a on a.next_idx = d.session_idx and a.client_id = w.client_id
    where w.as_of_date between d0 and d1
)

select * from final
