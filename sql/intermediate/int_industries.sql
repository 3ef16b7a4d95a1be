-- The industries of ref.securities and '未分类' (a security missing there, or without an
-- industry), numbered 1.. in name order: int_client_positions carries the number, and
-- client_habits groups by it (an integer key hashes faster than the name; in name order, so
-- that ordering the numbers orders the names) and names the result by position in
-- `list(industry order by industry_no)`.
create or replace temp macro int_industries() as table
select row_number() over (order by industry)::integer as industry_no, industry
from (
    select coalesce(industry, '未分类') as industry from ref.securities
    union
    select '未分类'
)
