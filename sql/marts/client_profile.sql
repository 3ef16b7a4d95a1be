-- mart.client_profile ($start .. $end): per client on D (a client_windows row), its
-- attributes in bands, its preferred board on D and its trading habits over the window
-- (docs/spec/client-analysis.md, 3). Habits over the $window sessions ending at D sum the
-- client's trades of those sessions.
with

clients_on as (
    select w.as_of_date, w.client_id, w.tenure_days, s.session_idx
    from mart.client_windows as w
    inner join ref.sessions as s on s.session_date = w.as_of_date
    where w.as_of_date between $start and $end
),

attributes as (
    select as_of_date, client_id, birth_date, gender, channel, city, risk_level
    from raw.clients
    where as_of_date between $start and $end
),

positions as (
    -- the chunk's positions valued, with their board: int_client_positions, computed once
    -- for client_profile and client_habits (core.build.build_analysis)
    select as_of_date, client_id, board, market_value
    from client_positions
),

boards as (
    -- per client on D, the market value it holds on each board (null: none held there)
    select
        as_of_date,
        client_id,
        sum(market_value) filter (where board = 'sh_main') as sh_main,
        sum(market_value) filter (where board = 'sz_main') as sz_main,
        sum(market_value) filter (where board = 'chinext') as chinext,
        sum(market_value) filter (where board = 'star') as star,
        sum(market_value) filter (where board = 'bj') as bj,
        sum(market_value) filter (where board = 'other') as other
    from positions
    group by all
),

preferred as (
    -- the largest market value, ties to the first board of the list (one aggregate per client
    -- and a comparison: ~10 % less than a sum per board then an arg_max over those; a window
    -- sorting every client's boards cost twice as much again)
    select
        as_of_date,
        client_id,
        case
            when sh_main = top then 'sh_main'
            when sz_main = top then 'sz_main'
            when chinext = top then 'chinext'
            when star = top then 'star'
            when bj = top then 'bj'
            when other = top then 'other'
        end as board
    from (select *, greatest(sh_main, sz_main, chinext, star, bj, other) as top from boards)
),

first_day as (
    select session_date as d0
    from ref.sessions
    where session_idx = (select session_idx from ref.sessions where session_date = $start) - ($window - 1)
),

days as (
    select session_date as as_of_date, session_idx
    from ref.sessions
    where session_date between $start and $end
),

in_window as (
    -- per session D of the chunk and client, its trades in the window ending at D: amounts by
    -- channel and the amount-weighted hours, in one aggregate (first summing each client's
    -- days, then joining those to the clients on D, cost 1.4x as much)
    select
        d.session_idx,
        t.client_id,
        coalesce(sum(t.amount) filter (where t.channel = 'online'), 0) as online,
        coalesce(sum(t.amount) filter (where t.channel = 'phone'), 0) as phone,
        coalesce(sum(t.amount) filter (where t.channel = 'counter'), 0) as counter,
        count(t.channel) as with_channel,
        count(*) as trades,
        sum(t.amount) as amount,
        sum(t.amount * (hour(t.trade_time) + minute(t.trade_time) / 60)) as amount_hours
    from raw.trades as t
    inner join ref.sessions as s on s.session_date = t.as_of_date
    inner join days as d on d.session_idx between s.session_idx and s.session_idx + ($window - 1)
    where t.as_of_date between coalesce((select d0 from first_day), $start) and $end
    group by all
),

final as (
    select
        c.as_of_date,
        c.client_id,
        a.age,
        case
            when a.age is null then 'unknown'
            when a.age < 25 then '<25'
            when a.age < 35 then '25-34'
            when a.age < 45 then '35-44'
            when a.age < 55 then '45-54'
            when a.age < 65 then '55-64'
            else '65+'
        end as age_band,
        case
            when c.tenure_days < 365 then '<1y'
            when c.tenure_days < 1095 then '1-3y'
            when c.tenure_days < 1826 then '3-5y'
            when c.tenure_days < 3652 then '5-10y'
            else '10y+'
        end as tenure_band,
        -- empty: null, or blank text in a warehouse loaded before blanks were nulled
        coalesce(nullif(trim(a.gender), ''), 'unknown') as gender,
        coalesce(nullif(trim(a.channel), ''), 'unknown') as open_channel,
        coalesce(nullif(trim(a.city), ''), 'unknown') as city,
        coalesce(nullif(trim(a.risk_level), ''), 'unknown') as risk_level,
        p.board as preferred_board,
        case
            when coalesce(h.with_channel, 0) = 0 then null
            when h.online >= h.phone and h.online >= h.counter then 'online'
            when h.phone >= h.counter then 'phone'
            else 'counter'
        end as main_channel,
        case when h.trades > 0 then h.amount_hours / nullif(h.amount, 0) end as avg_trade_hour
    from clients_on as c
    left join (
        select
            as_of_date, client_id, gender, channel, city, risk_level,
            year(as_of_date) - year(birth_date)
                - case when (month(as_of_date), day(as_of_date)) < (month(birth_date), day(birth_date)) then 1 else 0 end
                as age
        from attributes
    ) as a on a.as_of_date = c.as_of_date and a.client_id = c.client_id
    left join preferred as p on p.as_of_date = c.as_of_date and p.client_id = c.client_id
    left join in_window as h on h.session_idx = c.session_idx and h.client_id = c.client_id
)

select * from final
