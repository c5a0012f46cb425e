-- Earned chances: a campaign may grant extra draws, beyond its limits, for each order, each
-- check-in and each friend who joins through the member's share link. A grant is one row,
-- keyed by what earned it, so an event delivered twice grants once. A draw that used a
-- chance says so in its response ("extra": true); earned minus used is what is left.
-- depends: 0013_more_games

ALTER TABLE campaigns
    ADD COLUMN chance_per_order integer
        CONSTRAINT campaigns_chance_per_order_range CHECK (chance_per_order BETWEEN 1 AND 100),
    ADD COLUMN chance_per_check_in integer
        CONSTRAINT campaigns_chance_per_check_in_range CHECK (chance_per_check_in BETWEEN 1 AND 100),
    ADD COLUMN chance_per_invite integer
        CONSTRAINT campaigns_chance_per_invite_range CHECK (chance_per_invite BETWEEN 1 AND 100);

CREATE TABLE draw_chances (
    campaign_id  text NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    member_id    text NOT NULL REFERENCES members (id),
    -- 'order:<order id>', 'check_in:<check-in id>', 'invite:<the friend's member id>'
    ref          text NOT NULL,
    source       text NOT NULL CONSTRAINT draw_chances_source_known
                 CHECK (source IN ('order', 'check_in', 'invite')),
    draws        integer NOT NULL CONSTRAINT draw_chances_draws_positive CHECK (draws > 0),
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (campaign_id, member_id, ref)
);

CREATE INDEX draws_extra_idx ON draws (campaign_id, member_id) WHERE (response ->> 'extra') = 'true';
