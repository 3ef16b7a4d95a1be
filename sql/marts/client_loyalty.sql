-- mart.client_loyalty ($start .. $end): per client on D, a loyalty score (忠诚度) in 0..100
-- from five components in 0..1, each stored (docs/decisions.md, "Loyalty"):
--   tenure       years at the branch, full at 5: least(tenure_days, 1826) / 1826
--   presence     sessions the client existed in the year to D (its last $annual_sessions
--                sessions) / the loaded sessions of that year
--   retention    total_assets(D) / its peak over the 11 calendar months before D's and D's
--                month up to D, at most 1; 0 without a peak. The peak: the month peaks of
--                mart.client_month (complete months) and the running lookback peak at D
--                (mart.client_running, which covers D's month so far): never a row after D
--   transfers    net transfers in over the year, against that peak: 0.5 + net / (2 x peak),
--                clamped to 0..1 (0.5: none; 1: brought in its peak or more; 0: took it out)
--   regularity   months with a trade / months with a row, over the same 12 months (D's
--                month: a trade from its first session to D, from the running totals)
-- loyalty = 100 x (0.2 tenure + 0.2 presence + 0.3 retention + 0.15 transfers + 0.15 regularity).
with

days as (
    select session_date as as_of_date, session_idx, date_trunc('month', session_date)::date as month_start
    from ref.sessions
    where session_date between $start and $end
),

clients_on as (
    select w.as_of_date, w.client_id, w.tenure_days, d.total_assets, s.session_idx, s.month_start
    from mart.client_windows as w
    inner join mart.client_daily as d on d.as_of_date = w.as_of_date and d.client_id = w.client_id
    inner join days as s on s.as_of_date = w.as_of_date
),

year_back as (
    -- the session a year back from D: totals there are subtracted
    select d.as_of_date, b.session_date as back_date, b.session_idx as back_idx
    from days as d
    left join ref.sessions as b on b.session_idx = d.session_idx - $annual_sessions
),

running as (
    -- the running totals looked up: on D and a year back (int_running_lookup, a constant list:
    -- core.db.running_lookup says why)
    select as_of_date, client_id, days, outflow, peak_assets, last_trade_idx
    from mart.client_running
    where int_running_lookup(as_of_date)
),

loaded as (
    select d.as_of_date, count(*) as sessions
    from days as d
    inner join ref.sessions as s on s.session_idx between d.session_idx - $annual_sessions + 1 and d.session_idx
    inner join mart.branch_daily as b on b.as_of_date = s.session_date
    group by all
),

months as (
    -- the 11 complete months before D's month, per month of the chunk's sessions (not per
    -- session: they are the same for every session of a month)
    select c.month_start, m.client_id, max(m.peak_assets) as peak, count(*) as months,
        count(*) filter (where m.traded) as traded_months
    from (select distinct month_start from days) as c
    inner join mart.client_month as m
        on m.month_start between (c.month_start - interval 11 month)::date and (c.month_start - interval 1 month)::date
    group by all
),

month_first as (
    select d.as_of_date, min(s.session_idx) as first_idx
    from days as d
    inner join ref.sessions as s on s.session_date between d.month_start and d.as_of_date
    group by all
),

joined as (
    -- each client on D with its running totals on D and a year back and its months' figures
    select
        c.as_of_date,
        c.client_id,
        c.tenure_days,
        c.total_assets,
        l.sessions,
        f.first_idx,
        n.days - coalesce(o.days, 0) as days_in_year,
        n.outflow - coalesce(o.outflow, 0) as outflow_in_year,
        n.last_trade_idx,
        m.traded_months,
        m.months,
        greatest(coalesce(m.peak, 0), coalesce(n.peak_assets, 0), c.total_assets) as peak
    from clients_on as c
    inner join year_back as y on y.as_of_date = c.as_of_date
    inner join loaded as l on l.as_of_date = c.as_of_date
    inner join month_first as f on f.as_of_date = c.as_of_date
    left join running as n on n.as_of_date = c.as_of_date and n.client_id = c.client_id
    left join running as o on o.as_of_date = y.back_date and o.client_id = c.client_id
    left join months as m on m.month_start = c.month_start and m.client_id = c.client_id
),

components as (
    select
        as_of_date,
        client_id,
        least(tenure_days, 1826) / 1826 as tenure,
        (days_in_year / sessions)::double as presence,
        coalesce(least(total_assets / nullif(peak, 0), 1), 0) as retention,
        coalesce(greatest(least(0.5 - outflow_in_year::double / (2 * nullif(peak, 0)), 1), 0), 0.5) as transfers,
        (coalesce(traded_months, 0) + case when last_trade_idx >= first_idx then 1 else 0 end)
            / (coalesce(months, 0) + 1) as regularity
    from joined
),

final as (
    select
        *,
        100 * (0.2 * tenure + 0.2 * presence + 0.3 * retention + 0.15 * transfers + 0.15 * regularity) as loyalty
    from components
)

select * from final
