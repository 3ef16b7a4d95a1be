-- mart.value_by_tier (the chunk's sessions): per session, month / quarter / year to date and
-- wealth tier of the clients on D, what the tier holds and earns the branch
-- (docs/spec/client-analysis.md, 1). Value is revenue, not assets: profitability is the
-- tier's annualised revenue per CNY of average assets.
with

value as (
    -- int_client_value of the chunk, computed once for both value tables (core.build.build_analysis)
    select * from client_value
),

tiers as (
    select
        as_of_date,
        period_type,
        wealth_tier,
        any_value(sessions) as sessions,
        count(*) as clients,
        sum(total_assets) as total_assets,
        sum(revenue) as revenue,
        sum(assets_sum) / any_value(sessions) as avg_assets
    from value
    group by as_of_date, period_type, wealth_tier
),

final as (
    select
        as_of_date,
        period_type,
        wealth_tier,
        sessions,
        clients,
        total_assets,
        revenue,
        revenue / nullif(sum(revenue) over (partition by as_of_date, period_type), 0) as revenue_share,
        revenue / clients as revenue_per_client,
        avg_assets,
        revenue / nullif(avg_assets, 0) * $annual_sessions / sessions as profitability
    from tiers
)

select * from final
