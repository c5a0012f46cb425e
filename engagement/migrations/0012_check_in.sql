-- Daily check-in (签到): a merchant's program (on or off, a reward per streak day) and the
-- members' check-ins, one per member per day in the merchant's time zone.
-- depends: 0011_store_reports

CREATE TABLE check_in_programs (
    merchant_id  text PRIMARY KEY REFERENCES merchants (id) ON DELETE CASCADE,
    enabled      boolean NOT NULL,
    updated_at   timestamptz NOT NULL
);

-- The reward of streak day 1..N; after day N the cycle starts again at day 1 (the
-- streak itself keeps counting). Days are contiguous: the program's PUT checks it.
CREATE TABLE check_in_rewards (
    merchant_id  text NOT NULL REFERENCES check_in_programs (merchant_id) ON DELETE CASCADE,
    day          integer NOT NULL CONSTRAINT check_in_rewards_day_range CHECK (day BETWEEN 1 AND 31),
    points       bigint NOT NULL CONSTRAINT check_in_rewards_points_nonnegative CHECK (points >= 0),
    draws        integer NOT NULL CONSTRAINT check_in_rewards_draws_nonnegative CHECK (draws >= 0),
    PRIMARY KEY (merchant_id, day)
);

CREATE TABLE check_ins (
    id           text PRIMARY KEY,
    merchant_id  text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    member_id    text NOT NULL REFERENCES members (id),
    -- The merchant's local date of the check-in.
    day          date NOT NULL,
    streak       integer NOT NULL CONSTRAINT check_ins_streak_positive CHECK (streak >= 1),
    -- What this check-in gave, as the program stood then (a later PUT changes no history).
    points       bigint NOT NULL CONSTRAINT check_ins_points_nonnegative CHECK (points >= 0),
    draws        integer NOT NULL CONSTRAINT check_ins_draws_nonnegative CHECK (draws >= 0),
    created_at   timestamptz NOT NULL,
    -- Once per day: of simultaneous check-ins only one row gets in, and only its
    -- transaction credits the reward (points ref 'check_in:<id>').
    CONSTRAINT check_ins_member_day_key UNIQUE (member_id, day)
);
-- The unique index above also reads a member's latest check-ins (member_id, day DESC).
-- The console's counts: a merchant's check-ins of the last days.
CREATE INDEX check_ins_merchant_day_idx ON check_ins (merchant_id, day);
