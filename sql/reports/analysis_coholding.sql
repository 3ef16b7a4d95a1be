-- The $top securities held by the most clients on $day (ties by market, then code, as
-- mart.coholding ranks them: clients with a positive quantity), with the securities most
-- held together with each (mart.coholding: lift, clients holding both), named from the day's
-- quotes. A security without a stored pair has one row with null security_b.
with

held as (
    select client_id, market, security_code
    from stg_positions_held($day, $day)
),

counts as (
    select market, security_code, count(*) as holders, (select count(distinct client_id) from held) as n_clients
    from held
    group by all
),

top as (
    select *, row_number() over (order by holders desc, market, security_code) as held_rank
    from counts
    qualify held_rank <= $top
),

final as (
    select
        t.held_rank,
        t.market,
        t.security_code,
        coalesce(qa.security_name, t.security_code) as security_name,
        t.holders,
        t.n_clients,
        c.market_b,
        c.security_b,
        coalesce(qb.security_name, c.security_b) as security_name_b,
        c.n_b,
        c.n_ab,
        c.lift,
        row_number() over (partition by t.held_rank order by c.lift desc, c.n_ab desc, c.market_b, c.security_b)
            as pair_rank
    from top as t
    left join mart.coholding as c
        on c.as_of_date = $day and c.market_a = t.market and c.security_a = t.security_code
    left join mart.security_quotes as qa
        on qa.as_of_date = $day and qa.market = t.market and qa.security_code = t.security_code
    left join mart.security_quotes as qb
        on qb.as_of_date = $day and qb.market = c.market_b and qb.security_code = c.security_b
)

select * from final
order by held_rank, pair_rank
