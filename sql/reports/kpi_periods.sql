-- Branch KPIs of each calendar period containing $day, to $day (not to the period's
-- latest loaded session, which mart.branch_period holds), and of the previous period of
-- the same type in full. Same measures as mart.branch_period (spec 3).
with

-- the calendar periods containing $day, from the marts' own period model
ranges as (
    select * from stg_session_periods_of_day($day)
),

-- the sessions whose periods the sums must cover: $day (periods to $day) and the last
-- session before each current period (its previous period in full)
bounds as (
    select
        max(s.session_date) filter (where s.session_date < r.min_start) as prev_first,
        max(s.session_date) filter (where s.session_date < r.max_start) as prev_last
    from ref.sessions as s,
        (select min(d0) as min_start, max(d0) as max_start from ranges where which = 'cur') as r
),

current_sums as (
    select * from int_branch_period_sums($day, $day)
),

previous_sums as (
    select * from int_branch_period_sums((select prev_first from bounds), (select prev_last from bounds))
),

sums as (
    select 'cur' as which, * from current_sums
    union all by name
    select 'prev' as which, * from previous_sums
)

select
    r.period_type,
    r.ord,
    r.which,
    r.d0,
    s.period_end,
    coalesce(s.sessions, 0) as sessions,
    s.calendar_sessions,
    s.first_session,
    s.new_clients,
    s.closed_clients,
    s.net_inflow,
    s.trade_count,
    s.trade_amount,
    s.commission,
    s.net_commission,
    s.interest_income,
    s.revenue,
    s.market_turnover,
    s.clients,
    s.effective_clients,
    s.total_assets,
    s.avg_total_assets,
    s.commission_rate,
    s.market_share,
    case when s.sessions > 0 then coalesce(s.active_clients, 0) end as active_clients
from ranges as r
left join sums as s on s.which = r.which and s.period_type = r.period_type and s.period_start = r.d0
order by r.ord, r.which
