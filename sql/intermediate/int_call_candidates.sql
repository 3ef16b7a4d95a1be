-- The call list's candidates of each session d0 .. d1 (docs/decisions.md, Call list): per
-- client with a reason to call, the reason with the most revenue at stake and the client's
-- rank in its broker's list of that session (by stake). The day's list is the ranks up to
-- calls_per_broker (sql/reports/call_list.sql); the ranks just below it are the comparable
-- clients that did-it-work compares the listed ones with (sql/reports/call_outcomes.sql).
-- Recomputed from the stored marts for any past session, so a past list is what its session's
-- numbers gave, under the current settings.
create or replace temp macro int_call_candidates(
    d0, d1, annual_sessions, churn_high, rule_high, trapped_factor, dormant_factor) as table
with

clients as (
    select
        w.as_of_date,
        w.client_id,
        w.is_trapped,
        w.is_dormant,
        w.days_since_last_trade,
        w.wealth_tier,
        c.total_assets,
        -- the client's revenue over the window, as a year of it (as profitability annualises)
        coalesce(w.revenue_w, 0) * annual_sessions / w.present_days as revenue_year,
        s.churn_risk,
        coalesce(s.model_version = 'rule', false) as rule_scored
    from mart.client_windows as w
    inner join mart.client_daily as c on c.as_of_date = w.as_of_date and c.client_id = w.client_id
    left join mart.churn_scores as s on s.as_of_date = w.as_of_date and s.client_id = w.client_id
    where w.as_of_date between d0 and d1
),

-- what a yuan of assets earned the branch in net commission over the window, a year of it:
-- what a dormant client's assets would earn once it trades again
branch as (
    select
        as_of_date,
        sum(net_commission_w) / nullif(sum(avg_assets * present_days), 0) * annual_sessions as commission_rate
    from mart.client_windows
    where as_of_date between d0 and d1
    group by as_of_date
),

reasons as (
    select
        as_of_date,
        client_id,
        'churn' as reason,
        1 as reason_order,
        revenue_year * case when rule_scored then churn_high else churn_risk end as stake
    from clients
    where churn_risk >= case when rule_scored then rule_high else churn_high end

    union all

    select as_of_date, client_id, 'trapped' as reason, 2 as reason_order, revenue_year * trapped_factor as stake
    from clients
    where is_trapped

    union all

    select
        c.as_of_date,
        c.client_id,
        'dormant' as reason,
        3 as reason_order,
        c.total_assets * coalesce(b.commission_rate, 0) * dormant_factor as stake
    from clients as c
    inner join branch as b on b.as_of_date = c.as_of_date
    where c.is_dormant
),

-- one reason a client: the most at stake (to the fen, as the workbook shows it), a tie to
-- churn, then trapped
best as (
    select as_of_date, client_id, reason, reason_order, round(stake, 2) as stake
    from reasons
    qualify row_number() over (partition by as_of_date, client_id order by stake desc, reason_order) = 1
),

final as (
    select
        b.as_of_date,
        k.broker_id,
        b.client_id,
        b.reason,
        b.stake,
        round(c.total_assets, 2) as total_assets,
        c.revenue_year,
        c.days_since_last_trade,
        c.churn_risk,
        c.rule_scored,
        c.wealth_tier,
        row_number() over (
            partition by b.as_of_date, k.broker_id
            order by b.stake desc, c.total_assets desc, b.client_id
        ) as rank
    from best as b
    inner join clients as c on c.as_of_date = b.as_of_date and c.client_id = b.client_id
    left join raw.clients as k on k.as_of_date = b.as_of_date and k.client_id = b.client_id
)

select * from final
