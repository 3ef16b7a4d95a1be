-- A money value as the exact DECIMAL a class is decided on (docs/decisions.md, "Classes at
-- their boundaries"): rounded to 0.0001 CNY, half away from zero. Extract money is in cents
-- and prices in at most 0.0001 CNY, so the rounding only removes the noise of doubles
-- (9,999.999999999998 is 10,000.0000) and the comparisons that follow are exact.
create or replace temp macro int_money(x) as cast(x as decimal(38, 4))
