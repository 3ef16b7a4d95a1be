-- mart.value_concentration (the chunk's sessions): per session and month / quarter / year to date,
-- how concentrated the branch's revenue is over the clients on D (docs/spec/client-analysis.md,
-- 2): the top 1 / 5 / 20 % of clients' share (ranked by revenue, ties by client_id), the Gini
-- coefficient, and how many average mass clients one average top-tier client is worth.
with

value as (
    -- int_client_value of the chunk, computed once for both value tables (core.build.build_analysis)
    select * from client_value
),

ranked as (
    select
        *,
        count(*) over (partition by as_of_date, period_type) as n,
        -- ties need no order: the top k's sum and the ranked sum are the same whichever of two
        -- equal revenues ranks first (sorting by client_id as well doubled the cost)
        row_number() over (partition by as_of_date, period_type order by revenue desc) as rank_desc
    from value
),

tier_means as (
    select
        as_of_date,
        period_type,
        wealth_tier,
        avg(revenue) as mean_revenue,
        list_position(['mass', 'affluent', 'wealth', 'hnw', 'uhnw'], wealth_tier) as tier_order
    from value
    group by all
),

tiers as (
    select
        as_of_date,
        period_type,
        arg_max(wealth_tier, tier_order) as top_tier,
        arg_max(mean_revenue, tier_order) as top_mean,
        max(mean_revenue) filter (where wealth_tier = 'mass') as mass_mean
    from tier_means
    group by all
),

sums as (
    select
        as_of_date,
        period_type,
        count(*) as clients,
        sum(revenue) as revenue,
        -- ceil(p x N) in integers: 0.01 x 300 is 3.0000000000000004 in floating point
        sum(revenue) filter (where rank_desc <= (n + 99) // 100) as top1,
        sum(revenue) filter (where rank_desc <= (5 * n + 99) // 100) as top5,
        sum(revenue) filter (where rank_desc <= (20 * n + 99) // 100) as top20,
        -- the ascending rank is n + 1 - rank_desc (equal revenues in any order give the same sum)
        sum((n + 1 - rank_desc) * revenue) as ranked_sum
    from ranked
    group by all
),

final as (
    select
        s.as_of_date,
        s.period_type,
        s.clients,
        s.revenue,
        s.top1 / nullif(s.revenue, 0) as top1_share,
        s.top5 / nullif(s.revenue, 0) as top5_share,
        s.top20 / nullif(s.revenue, 0) as top20_share,
        case when s.revenue <> 0
            then 2 * s.ranked_sum / (s.clients * s.revenue) - (s.clients + 1) / s.clients
        end as gini,
        t.top_tier,
        t.top_mean / nullif(t.mass_mean, 0) as worth_ratio
    from sums as s
    inner join tiers as t on t.as_of_date = s.as_of_date and t.period_type = s.period_type
)

select * from final
