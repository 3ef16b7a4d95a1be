-- Each end-of-day position of d0 .. d1 valued as everywhere (int_positions_valued), with what
-- the client-analysis marts group it by: its board (int_board) and its industry's number in
-- int_industries (ref.securities; a security missing there: '未分类'). core.build.build_analysis
-- stores a chunk's rows once in the temp table `client_positions` for client_profile (boards)
-- and client_habits (industries).
create or replace temp macro int_client_positions(d0, d1, trap_threshold) as table
with

positions as (
    select * from int_positions_valued(d0, d1, trap_threshold)
),

industries as (
    select industry_no, industry
    from int_industries()
),

securities as (
    select s.market, s.security_code, i.industry_no
    from ref.securities as s
    inner join industries as i on i.industry = coalesce(s.industry, '未分类')
),

final as (
    select
        p.as_of_date,
        p.client_id,
        int_board(p.security_code) as board,
        coalesce(s.industry_no, (select industry_no from industries where industry = '未分类')) as industry_no,
        coalesce(p.market_value, 0) as market_value,
        p.is_trapped
    from positions as p
    left join securities as s on s.market = p.market and s.security_code = p.security_code
)

select * from final
