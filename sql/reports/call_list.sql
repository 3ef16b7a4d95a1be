-- Today's call list (经纪人今日联系名单) of $day: per broker, the clients to contact and why,
-- ranked by the revenue at stake, at most $calls_per_broker a broker (docs/decisions.md,
-- Call list). A client with several reasons is listed once, for the one with the most at stake.
-- Names come as they are stored: reports.calls masks them (reports.queries.fetch).
with

candidates as (
    select *
    from int_call_candidates($day, $day, $annual_sessions, $churn_high, $rule_high, $call_trapped_factor,
                             $call_dormant_factor)
    where rank <= $calls_per_broker
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

-- the position a trapped call is about (a plain equi-join below: a condition on the reason
-- in the join would make DuckDB compare every pair, 14 s at 200k clients)
advice as (
    select c.client_id, p.market, p.security_code, p.loss
    from candidates as c
    inner join worst_positions as p on p.client_id = c.client_id
    where c.reason = 'trapped'
),

final as (
    select
        c.broker_id,
        k.broker_name,
        k.team_id,
        k.team_name,
        c.client_id,
        k.client_name,
        c.reason,
        c.stake,
        c.total_assets,
        c.revenue_year,
        p.market,
        p.security_code,
        q.security_name,
        p.loss,
        c.days_since_last_trade,
        c.churn_risk,
        c.rule_scored,
        c.rank
    from candidates as c
    left join mart.client_directory as k on k.as_of_date = $day and k.client_id = c.client_id
    left join advice as p on p.client_id = c.client_id
    left join mart.security_quotes as q
        on q.as_of_date = $day and q.market = p.market and q.security_code = p.security_code
)

select * from final
order by team_id nulls last, broker_id nulls last, rank
