-- Today's call list (经纪人今日联系名单) of $day: per broker, the clients to contact and why,
-- ranked by the revenue at stake, at most $calls_per_broker a broker (docs/decisions.md,
-- Call list). A client with several reasons is listed once, for the one with the most at stake.
-- Names come as they are stored: reports.calls masks them (reports.queries.fetch).
with

clients as (
    select
        w.client_id,
        w.is_trapped,
        w.is_dormant,
        w.days_since_last_trade,
        c.total_assets,
        -- the client's revenue over the window, as a year of it (as profitability annualises)
        coalesce(w.revenue_w, 0) * $annual_sessions / w.present_days as revenue_year,
        s.churn_risk,
        coalesce(s.model_version = 'rule', false) as rule_scored
    from mart.client_windows as w
    inner join mart.client_daily as c on c.as_of_date = w.as_of_date and c.client_id = w.client_id
    left join mart.churn_scores as s on s.as_of_date = w.as_of_date and s.client_id = w.client_id
    where w.as_of_date = $day
),

-- what a yuan of assets earned the branch in net commission over the window, a year of it:
-- what a dormant client's assets would earn once it trades again
branch as (
    select
        sum(net_commission_w) / nullif(sum(avg_assets * present_days), 0) * $annual_sessions as commission_rate
    from mart.client_windows
    where as_of_date = $day
),

-- a trapped client's position with the largest loss in money: what the advice is about
worst_positions as (
    select client_id, market, security_code, loss
    from int_positions_valued($day, $day, $trap_threshold)
    where is_trapped
    qualify row_number() over (
        partition by client_id
        order by cost_amount - market_value desc, market, security_code
    ) = 1
),

reasons as (
    select
        client_id,
        'churn' as reason,
        1 as reason_order,
        revenue_year * case when rule_scored then $churn_high else churn_risk end as stake
    from clients
    where churn_risk >= case when rule_scored then $rule_high else $churn_high end

    union all

    select client_id, 'trapped' as reason, 2 as reason_order, revenue_year * $call_trapped_factor as stake
    from clients
    where is_trapped

    union all

    select
        c.client_id,
        'dormant' as reason,
        3 as reason_order,
        c.total_assets * coalesce(b.commission_rate, 0) * $call_dormant_factor as stake
    from clients as c
    cross join branch as b
    where c.is_dormant
),

-- one reason a client: the most at stake (to the fen, as the workbook shows it), a tie to
-- churn, then trapped
best as (
    select client_id, reason, reason_order, round(stake, 2) as stake
    from reasons
    qualify row_number() over (partition by client_id order by stake desc, reason_order) = 1
),

-- the position a trapped call is about (a plain equi-join below: a condition on the reason
-- in the join would make DuckDB compare every pair, 14 s at 200k clients)
advice as (
    select b.client_id, p.market, p.security_code, p.loss
    from best as b
    inner join worst_positions as p on p.client_id = b.client_id
    where b.reason = 'trapped'
),

ranked as (
    select
        k.broker_id,
        k.broker_name,
        k.team_id,
        k.team_name,
        b.client_id,
        k.client_name,
        b.reason,
        b.stake,
        round(c.total_assets, 2) as total_assets,
        c.revenue_year,
        p.market,
        p.security_code,
        q.security_name,
        p.loss,
        c.days_since_last_trade,
        c.churn_risk,
        c.rule_scored,
        row_number() over (
            partition by k.broker_id
            order by b.stake desc, c.total_assets desc, b.client_id
        ) as rank
    from best as b
    inner join clients as c on c.client_id = b.client_id
    left join mart.client_directory as k on k.as_of_date = $day and k.client_id = b.client_id
    left join advice as p on p.client_id = b.client_id
    left join mart.security_quotes as q
        on q.as_of_date = $day and q.market = p.market and q.security_code = p.security_code
),

final as (
    select *
    from ranked
    where rank <= $calls_per_broker
)

select * from final
order by team_id nulls last, broker_id nulls last, rank
