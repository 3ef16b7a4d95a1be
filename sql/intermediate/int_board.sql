-- The board (板块) of a security from its code (docs/spec/client-analysis.md, 3): `star`
-- 688/689, `sh_main` other codes starting 6, `chinext` 300/301, `sz_main` other codes
-- starting 0, `bj` codes starting 4, 8 or 920, `other` anything else.
create or replace temp macro int_board(code) as
    case
        when left(code, 3) in ('688', '689') then 'star'
        when left(code, 1) = '6' then 'sh_main'
        when left(code, 3) in ('300', '301') then 'chinext'
        when left(code, 1) = '0' then 'sz_main'
        when left(code, 1) in ('4', '8') or left(code, 3) = '920' then 'bj'
        else 'other'
    end
