-- mart.attribute_association ($start .. $end): per session and attribute, Cramér's V between
-- the attribute and the segment over the clients on D that are not `inactive`
-- (docs/spec/client-analysis.md, 4): chi2 over every cell of the r x c table of the
-- categories and segments present, empty cells included; null when min(r, c) < 2. The
-- table's cells are attribute_profile's clients x segment shares (whole clients).
with

cells as (
    select as_of_date, attribute, category, segment, round(clients * share)::bigint as observed
    from (
        unpivot (
            select as_of_date, attribute, category, clients,
                stable_share as stable, aggressive_share as aggressive, conservative_share as conservative
            from mart.attribute_profile
            where as_of_date between $start and $end
        )
        on stable, aggressive, conservative
        into name segment value share
    )
),

present as (
    select * from cells where observed > 0
),

row_totals as (
    select as_of_date, attribute, category, sum(observed) as row_total
    from present
    group by all
),

col_totals as (
    select as_of_date, attribute, segment, sum(observed) as col_total
    from present
    group by all
),

totals as (
    select
        as_of_date,
        attribute,
        sum(observed) as n,
        count(distinct category) as categories,
        count(distinct segment) as segments
    from present
    group by all
),

chi2 as (
    -- every category x segment cell, the empty ones too
    select
        r.as_of_date,
        r.attribute,
        sum((coalesce(o.observed, 0) - r.row_total * c.col_total / t.n) ** 2 / (r.row_total * c.col_total / t.n))
            as chi2
    from row_totals as r
    inner join col_totals as c on c.as_of_date = r.as_of_date and c.attribute = r.attribute
    inner join totals as t on t.as_of_date = r.as_of_date and t.attribute = r.attribute
    left join present as o
        on o.as_of_date = r.as_of_date and o.attribute = r.attribute and o.category = r.category
        and o.segment = c.segment
    group by all
),

final as (
    select
        t.as_of_date,
        t.attribute,
        t.n,
        t.categories,
        t.segments,
        case when least(t.categories, t.segments) >= 2
            then sqrt(x.chi2 / (t.n * (least(t.categories, t.segments) - 1)))
        end as cramers_v
    from totals as t
    inner join chi2 as x on x.as_of_date = t.as_of_date and x.attribute = t.attribute
)

select * from final
