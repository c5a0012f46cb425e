-- Three more games: 九宫格 (grid), 老虎机 (slot) and 摇一摇 (shake). Only the list of known
-- games widens; existing rows already satisfy the new check.
-- depends: 0012_check_in

ALTER TABLE campaigns DROP CONSTRAINT campaigns_game_known;
ALTER TABLE campaigns ADD CONSTRAINT campaigns_game_known
    CHECK (game IN ('wheel', 'scratch', 'egg', 'grid', 'slot', 'shake'));
