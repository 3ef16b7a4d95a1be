-- Segmentation's inputs (models/segmentation.py FEATURES) for $start .. $end, with the
-- raw measures segment_profile shows; stored by sql/models/client_features.sql.
select
    as_of_date,
    client_id,
    eligible,
    seg_turnover as turnover,
    seg_activity as activity,
    seg_concentration as concentration,
    seg_cash_ratio as cash_ratio,
    seg_trade_size as trade_size,
    seg_volatility as volatility,
    avg_trade_size,
    pnl_volatility
from mart.client_features
where as_of_date between $start and $end
