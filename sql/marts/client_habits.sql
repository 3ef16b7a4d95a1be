-- mart.client_habits ($start .. $end): per client on D (a client_windows row), the industry it
-- holds most and how long it holds (docs/spec/client-analysis.md, "Beyond the page").
--   top_industry        the industry (ref.securities; a security missing there: '未分类') with the
--                       largest market value in its positions on D, valued as everywhere
--                       (int_positions_valued, via int_client_positions), ties by industry name;
--                       null without positions
--   top_industry_share  that industry's market value / the positions' market value; null when 0
--   industries          distinct industries among its positions on D (0 without positions)
--   trapped_in          the industries of its trapped positions on D (trapped as everywhere:
--                       cost_amount > 0 and loss >= trap_threshold), by name; null when none
--                       (mart.trapped_industries pairs them)
--   market_value_w      sum of client_daily.market_value over its rows in the $window sessions ending at D
--                       (the difference of two running totals, mart.client_running)
--   sell_amount_w       sum of its sells' amount (side 'S') in those sessions
--   holding_sessions    平均持股周期 in sessions, turnover-based: W x (average market value over the
--                       window, a session without a row counting 0) / sells over the window =
--                       market_value_w / sell_amount_w; null without sells
-- The sells are summed here from the trades of the chunk's reach (sparse: only sellers' days).
with

clients_on as (
    select as_of_date, client_id
    from mart.client_windows
    where as_of_date between $start and $end
),

days as (
    select session_date as as_of_date, session_idx
    from ref.sessions
    where session_date between $start and $end
),

-- the sessions whose rows fall in some window of the chunk
reach as (
    select session_date, session_idx
    from ref.sessions
    where session_idx between (select min(session_idx) from days) - ($window - 1)
        and (select max(session_idx) from days)
),

-- the market value over the window: running totals at D and $window sessions back
values_w as (
    select n.as_of_date, n.client_id, (n.market_value_sum - coalesce(b.market_value_sum, 0))::double as market_value_w
    from mart.client_running as n
    left join int_client_running_back($start, $end, $window) as b
        on b.as_of_date = n.as_of_date and b.client_id = n.client_id
    where n.as_of_date between $start and $end
),

sells_w as (
    select d.as_of_date, t.client_id, sum(t.amount) as sell_amount_w
    from reach as r
    inner join raw.trades as t on t.as_of_date = r.session_date
    inner join days as d on d.session_idx between r.session_idx and r.session_idx + ($window - 1)
    where t.side = 'S'
    group by all
),

positions as (
    -- the chunk's positions valued, with their industry's number (int_industries, in name
    -- order): int_client_positions, computed once for client_profile and client_habits
    -- (core.build.build_analysis)
    select as_of_date, client_id, industry_no, market_value, is_trapped
    from client_positions
),

industries as (
    select as_of_date, client_id, industry_no, sum(market_value) as market_value, bool_or(is_trapped) as trapped
    from positions
    group by all
),

names as (
    -- industry_no -> its name, by position in the list
    select list(industry order by industry_no) as name
    from int_industries()
),

held as (
    select
        as_of_date,
        client_id,
        -- the largest value, ties to the first name (numbers are in name order): an ordered
        -- aggregate, 16 % less than the max joined back to the industries for the first name
        first(industry_no order by market_value desc, industry_no) as top_industry_no,
        max(market_value) / nullif(sum(market_value), 0) as top_industry_share,
        count(*) as industries,
        -- null when none is trapped (no row passes the filter)
        list_sort(list(industry_no) filter (where trapped)) as trapped_in_no
    from industries
    group by all
),

final as (
    select
        c.as_of_date,
        c.client_id,
        n.name[h.top_industry_no] as top_industry,
        h.top_industry_share,
        coalesce(h.industries, 0) as industries,
        list_transform(h.trapped_in_no, lambda i: n.name[i]) as trapped_in,
        coalesce(v.market_value_w, 0) as market_value_w,
        coalesce(s.sell_amount_w, 0) as sell_amount_w,
        coalesce(v.market_value_w, 0) / nullif(s.sell_amount_w, 0) as holding_sessions
    from clients_on as c
    left join held as h on h.as_of_date = c.as_of_date and h.client_id = c.client_id
    cross join names as n
    left join values_w as v on v.as_of_date = c.as_of_date and v.client_id = c.client_id
    left join sells_w as s on s.as_of_date = c.as_of_date and s.client_id = c.client_id
)

select * from final
