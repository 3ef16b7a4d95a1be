-- mart.trapped_industries ($start .. $end): per session, the industries clients are trapped in
-- together (docs/spec/client-analysis.md, "Beyond the page"), from mart.client_habits.trapped_in
-- (a client's industries with a trapped position on D: trapped as everywhere, the industry from
-- ref.securities or '未分类'). N = clients trapped in some industry, n_x = clients trapped in
-- industry x, n_ab = clients trapped in both a and b; pairs of distinct industries with
-- n_ab >= $coholding_min_clients, lift = n_ab x N / (n_a x n_b), the $coholding_pairs of largest
-- lift per industry_a (ties: larger n_ab, then industry_b).
with

-- materialized: read by two CTEs, unnested once
trapped as materialized (
    select as_of_date, client_id, unnest(trapped_in) as industry
    from mart.client_habits
    where as_of_date between $start and $end and trapped_in is not null
),

-- the clients trapped in two industries or more, for the pairs
lists as (
    select as_of_date, client_id, trapped_in
    from mart.client_habits
    where as_of_date between $start and $end and len(trapped_in) > 1
),

trapped_clients as (
    select as_of_date, count(distinct client_id) as n_clients
    from trapped
    group by all
),

counts as materialized (
    select as_of_date, industry, count(*) as n
    from trapped
    group by all
),

-- a client trapped in k industries gives k x (k - 1) ordered pairs: a few per client (coholding's
-- securities need its top-20 restriction first; 80-odd industries do not), paired within each
-- client's list (a self-join of the unnested rows on the client cost 1.6x as much)
pairs_once as (
    -- trapped_in is sorted and distinct: each pair once
    select l.as_of_date, a.industry as industry_a, b.industry as industry_b, count(*) as n_ab
    from lists as l, unnest(l.trapped_in) as a(industry), unnest(l.trapped_in) as b(industry)
    where b.industry > a.industry
    group by all
    having count(*) >= $coholding_min_clients
),

pairs as (
    select * from pairs_once
    union all
    select as_of_date, industry_b, industry_a, n_ab from pairs_once
),

final as (
    select
        p.as_of_date,
        p.industry_a,
        p.industry_b,
        ca.n as n_a,
        cb.n as n_b,
        p.n_ab,
        p.n_ab * t.n_clients / (ca.n * cb.n) as lift
    from pairs as p
    inner join trapped_clients as t on t.as_of_date = p.as_of_date
    inner join counts as ca on ca.as_of_date = p.as_of_date and ca.industry = p.industry_a
    inner join counts as cb on cb.as_of_date = p.as_of_date and cb.industry = p.industry_b
    qualify row_number() over (
        partition by p.as_of_date, p.industry_a
        order by lift desc, p.n_ab desc, p.industry_b
    ) <= $coholding_pairs
)

select * from final
