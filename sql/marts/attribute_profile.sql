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
    -- each client with an event in the lookback ending at D, once
    select distinct d.as_of_date, e.client_id
    from days as d
    inner join churn_events as e on e.session_idx between d.session_idx - ($lookback - 1) and d.session_idx
),

on_day as (
    -- the clients on D with their measures, flagged when churned: their latest profile row
    -- up to D is D's
    select
        p.*, true as on_day, c.client_id is not null as churned,
        d.total_assets, w.revenue_w, w.activity, w.turnover_rate_annual, w.is_dormant, s.segment
    from mart.client_profile as p
    inner join mart.client_windows as w on w.as_of_date = p.as_of_date and w.client_id = p.client_id
    inner join mart.client_daily as d on d.as_of_date = p.as_of_date and d.client_id = p.client_id
    left join mart.client_segments as s on s.as_of_date = p.as_of_date and s.client_id = p.client_id
    left join churned as c on c.as_of_date = p.as_of_date and c.client_id = p.client_id
    where p.as_of_date between $start and $end
),

gone as (
    -- the churned clients without a row on D: only their profile rows of the lookback are read
    select c.as_of_date, c.client_id
    from churned as c
    anti join on_day as o on o.as_of_date = c.as_of_date and o.client_id = c.client_id
),

wide as (
    -- the profile rows counted on D: the clients on D, and the gone churned clients' latest
    -- ones up to D (their churn_event row has one; measures null: they count in churned_60 only)
    select * from on_day
    union all by name
    select g.as_of_date, p.* exclude (as_of_date), false as on_day, true as churned
    from gone as g
    inner join mart.client_profile as p
        on p.client_id = g.client_id and p.as_of_date between coalesce((select d0 from first_day), $start) and g.as_of_date
    qualify row_number() over (partition by g.as_of_date, g.client_id order by p.as_of_date desc) = 1
),

flagged as (
    select
        * exclude (preferred_board, main_channel),
        coalesce(preferred_board, 'none') as preferred_board,
        coalesce(main_channel, 'none') as main_channel
    from wide
),

categories as (
    -- one aggregate with a grouping set per attribute (an unpivot to one row per client and
    -- attribute, then grouped, cost 1.5x as much); the measures count the clients on D,
    -- churned_60 the churned clients (on D or gone)
    select
        as_of_date,
        case
            when grouping(age_band) = 0 then 'age_band'
            when grouping(gender) = 0 then 'gender'
            when grouping(tenure_band) = 0 then 'tenure_band'
            when grouping(open_channel) = 0 then 'open_channel'
            when grouping(city) = 0 then 'city'
            when grouping(risk_level) = 0 then 'risk_level'
            when grouping(preferred_board) = 0 then 'preferred_board'
            when grouping(main_channel) = 0 then 'main_channel'
        end as attribute,
        case
            when grouping(age_band) = 0 then age_band
            when grouping(gender) = 0 then gender
            when grouping(tenure_band) = 0 then tenure_band
            when grouping(open_channel) = 0 then open_channel
            when grouping(city) = 0 then city
            when grouping(risk_level) = 0 then risk_level
            when grouping(preferred_board) = 0 then preferred_board
            when grouping(main_channel) = 0 then main_channel
        end as category,
        count(*) filter (where on_day) as clients,
        sum(total_assets) filter (where on_day) as total_assets,
        sum(revenue_w) filter (where on_day) as revenue_w,
        avg(activity) filter (where on_day) as avg_activity,
        avg(turnover_rate_annual) filter (where on_day) as avg_turnover_annual,
        count(*) filter (where on_day and is_dormant) / count(*) filter (where on_day) as dormant_share,
        count(*) filter (where churned) as churned_60,
        count(*) filter (where on_day and segment = 'stable') / count(*) filter (where on_day) as stable_share,
        count(*) filter (where on_day and segment = 'aggressive') / count(*) filter (where on_day) as aggressive_share,
        count(*) filter (where on_day and segment = 'conservative') / count(*) filter (where on_day)
            as conservative_share,
        count(*) filter (where on_day and segment = 'inactive') / count(*) filter (where on_day) as inactive_share
    from flagged
    group by grouping sets ((as_of_date, age_band), (as_of_date, gender), (as_of_date, tenure_band), (as_of_date, open_channel), (as_of_date, city), (as_of_date, risk_level), (as_of_date, preferred_board), (as_of_date, main_channel))
),

final as (
    -- a category without a client on D has no row
    select
        as_of_date, attribute, category, clients, total_assets, revenue_w, avg_activity,
        avg_turnover_annual, dormant_share, churned_60,
        stable_share, aggressive_share, conservative_share, inactive_share
    from categories
    where clients > 0 and category is not null
)

select * from final
