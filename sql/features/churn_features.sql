-- The churn model's and rule's inputs (models/churn.py FEATURES) for $start .. $end; stored by
-- sql/features/client_features.sql.
select
    as_of_date,
    client_id,
    log_assets,
    assets_to_peak,
    net_outflow_share_w,
    net_outflow_share_l,
    withdraw_days_w,
    activity_5,
    activity_w,
    activity_l,
    trade_trend,
    assets_change_w,
    market_value_change_w,
    days_since_last_trade,
    never_traded,
    cash_ratio,
    concentration,
    trapped_ratio,
    pnl_rate,
    log_tenure,
    history_share,
    churned_recently,
    holdings_cost_change_w,
    withdraw_days_l,
    active_days_5,
    present_days_5,
    active_days_l,
    present_days_l
from mart.client_features
where as_of_date between $start and $end
