-- Per month of d0 .. d1: the last session loaded into mart.client_daily and the last one
-- mart.client_month was built from. They differ when sessions were loaded without the
-- rankings rebuilt after them (or on a warehouse from before client_month): such a month
-- is read from client_daily instead (int_client_period) and rebuilt by the next ranking run.
create or replace temp macro int_client_month_status(d0, d1) as table
with

loaded as (
    select date_trunc('month', as_of_date)::date as month_start, max(as_of_date) as loaded_to
    from mart.client_daily
    where as_of_date between date_trunc('month', d0)::date and last_day(d1)
    group by all
),

stored as (
    select month_start, max(last_date) as stored_to
    from mart.client_month
    where month_start between date_trunc('month', d0)::date and date_trunc('month', d1)::date
    group by all
),

final as (
    select * from loaded full join stored using (month_start)
)

select * from final
