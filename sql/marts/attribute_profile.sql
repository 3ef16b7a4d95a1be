-- mart.attribute_profile ($start .. $end): per session, attribute of mart.client_profile and
-- category of the clients on D, what those clients hold, earn, do and are
-- (docs/spec/client-analysis.md, 4). churned_60 counts the clients with a churn_event in the
-- $lookback sessions ending at D in the category of their latest profile row up to D, so
-- clients who left count too (a category without a client on D has no row). A null
-- category is `none`.
with

first_day as (
    select session_date as d0
    from ref.sessions
    where session_idx = (select session_idx from ref.sessions where session_date = $start) - ($lookback - 1)
),

days as (
    select session_date as as_of_date, session_idx
    from ref.sessions
    where session_date between $start and $end
),

churn_events as (
    select s.session_idx, w.client_id
    from mart.client_windows as w
    inner join ref.sessions as s on s.session_date = w.as_of_date
    where w.churn_event and w.as_of_date between coalesce((select d0 from first_day), $start) and $end
),

churned as (
    -- each client with an event in the lookback ending at D, once, with its latest profile
    -- row up to D (its churn_event row has one)
    select c.as_of_date, c.client_id, max(p.as_of_date) as profile_date
    from (
        select distinct d.as_of_date, e.client_id
        from days as d
        inner join churn_events as e on e.session_idx between d.session_idx - ($lookback - 1) and d.session_idx
    ) as c
    inner join mart.client_profile as p
        on p.client_id = c.client_id and p.as_of_date between coalesce((select d0 from first_day), $start) and c.as_of_date
    group by all
),

wide as (
    -- the profile rows counted on D, with the client's measures: the clients on D, and the
    -- churned clients' latest ones (measures null: they count in churned_60 only)
    select
        p.*, true as on_day, false as churned,
        d.total_assets, w.revenue_w, w.activity, w.turnover_rate_annual, w.is_dormant, s.segment
    from mart.client_profile as p
    inner join mart.client_windows as w on w.as_of_date = p.as_of_date and w.client_id = p.client_id
    inner join mart.client_daily as d on d.as_of_date = p.as_of_date and d.client_id = p.client_id
    left join mart.client_segments as s on s.as_of_date = p.as_of_date and s.client_id = p.client_id
    where p.as_of_date between $start and $end
    union all by name
    select c.as_of_date, p.* exclude (as_of_date), false as on_day, true as churned
    from churned as c
    inner join mart.client_profile as p on p.as_of_date = c.profile_date and p.client_id = c.client_id
),

long as (
    unpivot (
        select
            * exclude (age, avg_trade_hour, preferred_board, main_channel),
            coalesce(preferred_board, 'none') as preferred_board,
            coalesce(main_channel, 'none') as main_channel
        from wide
    )
    on age_band, gender, tenure_band, open_channel, city, risk_level, preferred_board, main_channel
    into name attribute value category
),

clients_on as (
    select * from long where on_day
),

churned_in as (
    select as_of_date, attribute, category, count(*) as churned_60
    from long
    where churned
    group by all
),

categories as (
    select
        as_of_date,
        attribute,
        category,
        count(*) as clients,
        sum(total_assets) as total_assets,
        sum(revenue_w) as revenue_w,
        avg(activity) as avg_activity,
        avg(turnover_rate_annual) as avg_turnover_annual,
        count(*) filter (where is_dormant) / count(*) as dormant_share,
        count(*) filter (where segment = 'stable') / count(*) as stable_share,
        count(*) filter (where segment = 'aggressive') / count(*) as aggressive_share,
        count(*) filter (where segment = 'conservative') / count(*) as conservative_share,
        count(*) filter (where segment = 'inactive') / count(*) as inactive_share
    from clients_on
    group by all
),

final as (
    select
        c.as_of_date, c.attribute, c.category, c.clients, c.total_assets, c.revenue_w, c.avg_activity,
        c.avg_turnover_annual, c.dormant_share, coalesce(h.churned_60, 0) as churned_60,
        c.stable_share, c.aggressive_share, c.conservative_share, c.inactive_share
    from categories as c
    left join churned_in as h on h.as_of_date = c.as_of_date and h.attribute = c.attribute and h.category = c.category
)

select * from final
