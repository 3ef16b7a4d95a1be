-- The revenue concentration curve of the month to $day: the clients on $day ranked by their
-- month-to-date revenue (largest first, ties by client_id, as mart.value_concentration ranks
-- them), the cumulative share of revenue of the top k clients. Computed on request from
-- int_client_value, the macro the mart is built from, so its points at 1 / 5 / 20 % are the
-- mart's shares. One point per percent of clients at most (the last client of each percent),
-- no client identifier leaves the query.
with

value as (
    select client_id, revenue
    from int_client_value($day, $day)
    where period_type = 'month'
),

ranked as (
    select
        row_number() over (order by revenue desc, client_id) as k,
        count(*) over () as n,
        sum(revenue) over (order by revenue desc, client_id rows between unbounded preceding and current row)
            as cum_revenue,
        sum(revenue) over () as total_revenue
    from value
),

final as (
    select
        k as clients,
        n,
        k / n as client_share,
        cum_revenue / nullif(total_revenue, 0) as revenue_share
    from ranked
    qualify k = max(k) over (partition by (100 * k + n - 1) // n)
)

select * from final
order by clients
