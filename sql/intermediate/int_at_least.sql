-- amount >= share x base, decided exactly (docs/decisions.md, "Classes at their boundaries"):
-- on both amounts rounded to 0.0001 CNY (int_money) and the share (a threshold of the
-- configuration, e.g. trap_threshold 0.10) as a DECIMAL of 6 places. `1 - 900 / 1000 >= 0.10`
-- is false in doubles (0.09999999999999998); `100 >= 0.10 x 1000` is true here.
-- Doubles settle the clear cases first: farther from the boundary than those roundings and
-- any double error can move it (0.001 CNY per unit of share + a millionth of the amounts),
-- they cannot disagree with the exact test, and DECIMAL(38) arithmetic costs ~8x theirs on
-- a day's million positions. Null when an operand is null.
create or replace temp macro int_at_least(amount, share, base) as
    case
        when abs(amount - share * base)
            > 0.001 * (1 + abs(share)) + 1e-6 * (abs(amount) + abs(base) + abs(share * base))
            then amount >= share * base
        else int_money(amount) >= cast(share as decimal(18, 6)) * int_money(base)
    end
