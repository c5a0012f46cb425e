-- What a merchant's points are worth, when the merchant says so: point_value_points points
-- are worth point_value_cents cents (100 and 100: a point is a fen). A points prize's face
-- value follows from it, and with it the ¥50,000 cap of 有奖销售; unset, points prizes are
-- not capped.
-- depends: 0015_draw_chances

ALTER TABLE points_programs
    ADD COLUMN point_value_points bigint
        CONSTRAINT points_programs_point_value_points_positive CHECK (point_value_points > 0),
    ADD COLUMN point_value_cents bigint
        CONSTRAINT points_programs_point_value_cents_nonnegative CHECK (point_value_cents >= 0),
    ADD CONSTRAINT points_programs_point_value_whole
        CHECK ((point_value_points IS NULL) = (point_value_cents IS NULL));
