-- mart.branch_daily: the branch's day, summed from client_daily ($start .. $end).
with

daily as (
    select * from mart.client_daily where as_of_date between $start and $end
),

clients as (
    select as_of_date, client_id, open_date, close_date
    from raw.clients
    where as_of_date between $start and $end
),

market as (
    select as_of_date, sum(turnover_amount) as market_turnover
    from raw.market
    where as_of_date between $start and $end
    group by as_of_date
),

by_day as (
    select
        d.as_of_date,
        count(*) as clients,
        count(*) filter (where c.open_date = d.as_of_date) as new_clients,
        count(*) filter (where c.close_date = d.as_of_date) as closed_clients,
        count(*) filter (where int_money(d.total_assets) >= int_money($effective_assets)) as effective_clients,
        count(*) filter (where d.trade_count > 0) as active_clients,
        sum(d.total_assets) as total_assets,
        sum(d.cash_balance) as cash_balance,
        sum(d.market_value) as market_value,
        sum(d.net_inflow) as net_inflow,
        sum(d.trade_count) as trade_count,
        sum(d.trade_amount) as trade_amount,
        sum(d.commission) as commission,
        sum(d.net_commission) as net_commission,
        sum(d.interest_income) as interest_income,
        sum(d.revenue) as revenue
    from daily as d
    left join clients as c on c.as_of_date = d.as_of_date and c.client_id = d.client_id
    group by d.as_of_date
),

final as (
    select
        b.*,
        b.commission / nullif(b.trade_amount, 0) as commission_rate,
        m.market_turnover,
        b.trade_amount / nullif(2 * m.market_turnover, 0) as market_share
    from by_day as b
    left join market as m on m.as_of_date = b.as_of_date
)

select * from final
