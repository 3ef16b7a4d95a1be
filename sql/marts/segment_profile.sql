-- mart.segment_profile of $day: one row per segment, comparing the segments' indicators.
-- Reads the segments just written to mart.client_segments and `segment_features_day`,
-- the day's behavioural features registered by the writer (sql/features/segment_features.sql).
with

clients as (
    select
        s.segment,
        i.turnover_rate_annual,
        i.activity,
        i.concentration,
        i.cash_ratio,
        i.profitability,
        i.revenue_w,
        d.total_assets,
        f.avg_trade_size,
        f.pnl_volatility
    from mart.client_segments as s
    inner join mart.client_windows as i on i.client_id = s.client_id
    inner join mart.client_daily as d on d.client_id = i.client_id
    left join segment_features_day as f on f.client_id = i.client_id
    -- the day on each table: DuckDB then prunes each scan to the day's row groups
    where s.as_of_date = $day and i.as_of_date = $day and d.as_of_date = $day
),

final as (
    select
        $day::date as as_of_date,
        segment,
        count(*) as clients,
        count(*) / sum(count(*)) over () as share,
        avg(turnover_rate_annual) as avg_turnover_rate_annual,
        avg(activity) as avg_activity,
        avg(concentration) as avg_concentration,
        avg(cash_ratio) as avg_cash_ratio,
        avg(avg_trade_size) as avg_trade_size,
        avg(pnl_volatility) as avg_pnl_volatility,
        avg(profitability) as avg_profitability,
        avg(total_assets) as avg_total_assets,
        sum(total_assets) as total_assets,
        sum(revenue_w) as revenue_w,
        sum(revenue_w) / nullif(sum(sum(revenue_w)) over (), 0) as revenue_share,
        $model_version as model_version
    from clients
    group by segment
)

select * from final
