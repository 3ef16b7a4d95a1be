-- Trades by channel (mart.channel_period) of the latest calendar month whose stored figures
-- end on or before $day ('cur': the month to $day in the report of a run's last session,
-- otherwise the latest month the report can show without sessions after $day) and of the
-- month before it ('prev'); stored_end is how far the mart holds the month containing $day.
with

months as (
    select distinct period_start, period_end
    from mart.channel_period
    where period_type = 'month' and period_end <= $day
),

shown as (
    select 'cur' as which, max(period_start) as period_start from months
    union all
    select 'prev', max(period_start) from months where period_start < (select max(period_start) from months)
),

final as (
    select
        s.which,
        c.*,
        (select max(period_end) from mart.channel_period
         where period_type = 'month' and period_start = date_trunc('month', $day::date)) as stored_end
    from shown as s
    inner join mart.channel_period as c on c.period_type = 'month' and c.period_start = s.period_start
)

select * from final
order by which, trade_amount desc, channel
