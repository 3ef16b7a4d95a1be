-- The loaded sessions (those with a branch_daily row) from `since` to `day`, numbered from 1
-- in date order: the span of the broker books' client cards (charts, segment history).
create or replace temp macro int_loaded_sessions(since, day) as table
    select as_of_date, row_number() over (order by as_of_date) as i
    from mart.branch_daily
    where as_of_date between since and day
