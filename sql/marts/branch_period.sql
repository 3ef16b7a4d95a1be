-- mart.branch_period: week / month / quarter / half / year to date, for the periods
-- touching $start .. $end, each running to its last loaded session up to $end, with
-- *_chg = this / previous period of the same type - 1 (the spec), and *_lfl_chg = this /
-- the same number of sessions at the start of the previous period - 1 (同期可比), null
-- unless both have every exchange session of theirs loaded (docs/decisions.md, "Periods").
with

-- the periods touching the range, each to its last loaded session up to $end
current as (
    select * from int_branch_period_sums($start, $end)
),

-- the previous periods' first sessions, as many as the period's to $end
like_for_like as (
    select * from int_branch_period_sums($start, $end, like_for_like := true)
),

-- previous periods: recomputed here when touched, else as stored
previous as (
    select * exclude (prev_period_start) from current
    union all by name
    select columns(c -> c not like '%\_chg' escape '\')
    from mart.branch_period as b
    where not exists (
        select 1 from current as c
        where c.period_type = b.period_type and c.period_start = b.period_start
    )
),

final as (
    select
        c.period_type, c.period_start, c.period_end, c.sessions,
        c.clients, c.new_clients, c.closed_clients, c.effective_clients, c.active_clients,
        c.total_assets, c.avg_total_assets, c.net_inflow, c.trade_count, c.trade_amount,
        c.commission, c.net_commission, c.interest_income, c.revenue, c.commission_rate,
        c.market_turnover, c.market_share,
        c.calendar_sessions, c.first_session,
        coalesce(l.sessions, 0) as lfl_sessions,
        coalesce(l.calendar_sessions, 0) as lfl_calendar_sessions,
        c.clients / nullif(p.clients, 0) - 1 as clients_chg,
        c.new_clients / nullif(p.new_clients, 0) - 1 as new_clients_chg,
        c.closed_clients / nullif(p.closed_clients, 0) - 1 as closed_clients_chg,
        c.effective_clients / nullif(p.effective_clients, 0) - 1 as effective_clients_chg,
        c.active_clients / nullif(p.active_clients, 0) - 1 as active_clients_chg,
        c.total_assets / nullif(p.total_assets, 0) - 1 as total_assets_chg,
        c.avg_total_assets / nullif(p.avg_total_assets, 0) - 1 as avg_total_assets_chg,
        c.net_inflow / nullif(p.net_inflow, 0) - 1 as net_inflow_chg,
        c.trade_count / nullif(p.trade_count, 0) - 1 as trade_count_chg,
        c.trade_amount / nullif(p.trade_amount, 0) - 1 as trade_amount_chg,
        c.commission / nullif(p.commission, 0) - 1 as commission_chg,
        c.net_commission / nullif(p.net_commission, 0) - 1 as net_commission_chg,
        c.interest_income / nullif(p.interest_income, 0) - 1 as interest_income_chg,
        c.revenue / nullif(p.revenue, 0) - 1 as revenue_chg,
        c.commission_rate / nullif(p.commission_rate, 0) - 1 as commission_rate_chg,
        c.market_turnover / nullif(p.market_turnover, 0) - 1 as market_turnover_chg,
        c.market_share / nullif(p.market_share, 0) - 1 as market_share_chg,
        case when comparable then c.clients / nullif(l.clients, 0) - 1 end as clients_lfl_chg,
        case when comparable then c.new_clients / nullif(l.new_clients, 0) - 1 end as new_clients_lfl_chg,
        case when comparable then c.closed_clients / nullif(l.closed_clients, 0) - 1 end as closed_clients_lfl_chg,
        case when comparable then c.effective_clients / nullif(l.effective_clients, 0) - 1 end as effective_clients_lfl_chg,
        case when comparable then c.active_clients / nullif(l.active_clients, 0) - 1 end as active_clients_lfl_chg,
        case when comparable then c.total_assets / nullif(l.total_assets, 0) - 1 end as total_assets_lfl_chg,
        case when comparable then c.avg_total_assets / nullif(l.avg_total_assets, 0) - 1 end as avg_total_assets_lfl_chg,
        case when comparable then c.net_inflow / nullif(l.net_inflow, 0) - 1 end as net_inflow_lfl_chg,
        case when comparable then c.trade_count / nullif(l.trade_count, 0) - 1 end as trade_count_lfl_chg,
        case when comparable then c.trade_amount / nullif(l.trade_amount, 0) - 1 end as trade_amount_lfl_chg,
        case when comparable then c.commission / nullif(l.commission, 0) - 1 end as commission_lfl_chg,
        case when comparable then c.net_commission / nullif(l.net_commission, 0) - 1 end as net_commission_lfl_chg,
        case when comparable then c.interest_income / nullif(l.interest_income, 0) - 1 end as interest_income_lfl_chg,
        case when comparable then c.revenue / nullif(l.revenue, 0) - 1 end as revenue_lfl_chg,
        case when comparable then c.commission_rate / nullif(l.commission_rate, 0) - 1 end as commission_rate_lfl_chg,
        case when comparable then c.market_turnover / nullif(l.market_turnover, 0) - 1 end as market_turnover_lfl_chg,
        case when comparable then c.market_share / nullif(l.market_share, 0) - 1 end as market_share_lfl_chg
    from (
        select
            c.*,
            c.sessions = c.calendar_sessions and l.sessions = l.calendar_sessions as comparable
        from current as c
        left join like_for_like as l on l.period_type = c.period_type and l.period_start = c.period_start
    ) as c
    left join like_for_like as l on l.period_type = c.period_type and l.period_start = c.period_start
    left join previous as p on p.period_type = c.period_type and p.period_start = c.prev_period_start
)

select * from final
