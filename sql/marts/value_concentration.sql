-- mart.value_concentration (the chunk's sessions): per session and month / quarter / year to date,
-- how concentrated the branch's revenue is over the clients on D (docs/spec/client-analysis.md,
-- 2): the top 1 / 5 / 20 % of clients' share (ranked by revenue, ties by client_id), the Gini
-- coefficient, and how many average mass clients one average top-tier client is worth.
with

value as (
    -- int_client_value of the chunk, computed once for both value tables (core.build.build_analysis)
    select * from client_value
),

sorted as (
    -- each period's revenues, largest first, in one list: a sort per period where a
    -- row_number window sorted every row by (session, period, revenue), 2.3x the cost
    select as_of_date, period_type, count(*) as n, list(revenue order by revenue desc) as r
    from value
    group by all
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
        n as clients,
        list_sum(r) as revenue,
        -- the top k: the list's first ceil(p x N), in integers (0.01 x 300 is
        -- 3.0000000000000004 in floating point); equal revenues in any order give the same sums
        list_sum(r[1:(n + 99) // 100]) as top1,
        list_sum(r[1:(5 * n + 99) // 100]) as top5,
        list_sum(r[1:(20 * n + 99) // 100]) as top20,
        -- the ascending rank of the i-th largest is n + 1 - i
        list_sum(list_transform(r, lambda x, i: (n + 1 - i) * x)) as ranked_sum
    from sorted
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
