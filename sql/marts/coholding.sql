-- mart.coholding ($start .. $end): per session, for each of the $coholding_securities
-- securities held by the most clients, the securities most often held with it
-- (docs/spec/client-analysis.md, 6): pairs held together by at least $coholding_min_clients
-- clients, lift = n_ab x N / (n_a x n_b), the $coholding_pairs of largest lift per security.
with

held as materialized (
    -- one row per client and security already: raw.positions' key (the loader rejects
    -- duplicates, core.extracts.KEYS), so no distinct (it cost 40 % of the table)
    select as_of_date, client_id, market, security_code
    from raw.positions
    where as_of_date between $start and $end and quantity > 0
),

holders as (
    select as_of_date, count(distinct client_id) as n_clients
    from held
    group by all
),

counts as materialized (
    select as_of_date, market, security_code, count(*) as n
    from held
    group by all
),

top as (
    select *
    from counts
    qualify row_number() over (partition by as_of_date order by n desc, market, security_code) <= $coholding_securities
),

-- the top securities' holders first, so that the self-join below starts from them (left to
-- its own join order, DuckDB sometimes paired every held security of every client first)
top_held as materialized (
    select a.*
    from held as a
    semi join top as t on t.as_of_date = a.as_of_date and t.market = a.market and t.security_code = a.security_code
),

pairs as (
    select
        a.as_of_date,
        a.market as market_a,
        a.security_code as security_a,
        b.market as market_b,
        b.security_code as security_b,
        count(*) as n_ab
    from top_held as a
    inner join held as b
        on b.as_of_date = a.as_of_date and b.client_id = a.client_id
        and (b.market <> a.market or b.security_code <> a.security_code)
    group by all
    having count(*) >= $coholding_min_clients
),

final as (
    select
        p.as_of_date,
        p.market_a,
        p.security_a,
        p.market_b,
        p.security_b,
        ca.n as n_a,
        cb.n as n_b,
        p.n_ab,
        p.n_ab * h.n_clients / (ca.n * cb.n) as lift
    from pairs as p
    inner join holders as h on h.as_of_date = p.as_of_date
    inner join counts as ca on ca.as_of_date = p.as_of_date and ca.market = p.market_a and ca.security_code = p.security_a
    inner join counts as cb on cb.as_of_date = p.as_of_date and cb.market = p.market_b and cb.security_code = p.security_b
    qualify row_number() over (
        partition by p.as_of_date, p.market_a, p.security_a
        order by lift desc, p.n_ab desc, p.market_b, p.security_b
    ) <= $coholding_pairs
)

select * from final
