-- Campaigns, their prize pools and draws.
-- depends: 0002_coupons_points

CREATE TABLE campaigns (
    id                   text PRIMARY KEY,
    merchant_id          text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    name                 text NOT NULL,
    game                 text NOT NULL CONSTRAINT campaigns_game_known CHECK (game IN ('wheel', 'scratch', 'egg')),
    status               text NOT NULL DEFAULT 'draft'
                         CONSTRAINT campaigns_status_known CHECK (status IN ('draft', 'active', 'paused', 'ended')),
    starts_at            timestamptz,
    ends_at              timestamptz,
    per_member_per_day   integer CONSTRAINT campaigns_per_day_positive CHECK (per_member_per_day > 0),
    per_member_total     integer CONSTRAINT campaigns_total_positive CHECK (per_member_total > 0),
    entry_cost_points    integer NOT NULL DEFAULT 0 CONSTRAINT campaigns_entry_cost_nonnegative CHECK (entry_cost_points >= 0),
    rules                text NOT NULL DEFAULT '',
    created_at           timestamptz NOT NULL DEFAULT now(),
    published_at         timestamptz,
    ended_at             timestamptz,
    CONSTRAINT campaigns_window_ordered CHECK (starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at)
);
CREATE INDEX campaigns_merchant_idx ON campaigns (merchant_id, id DESC);
CREATE INDEX campaigns_live_ends_idx ON campaigns (ends_at) WHERE status IN ('active', 'paused');

CREATE TABLE campaign_prizes (
    id                  text PRIMARY KEY,
    campaign_id         text NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    merchant_id         text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    position            integer NOT NULL,
    name                text NOT NULL,
    kind                text NOT NULL CONSTRAINT campaign_prizes_kind_known CHECK (kind IN ('coupon', 'points', 'nothing')),
    coupon_template_id  text REFERENCES coupon_templates (id),
    points              integer CONSTRAINT campaign_prizes_points_positive CHECK (points > 0),
    -- NULL quantity = unlimited (only for points, or coupons of an unlimited template).
    quantity            integer CONSTRAINT campaign_prizes_quantity_nonnegative CHECK (quantity >= 0),
    weight              integer NOT NULL CONSTRAINT campaign_prizes_weight_positive CHECK (weight > 0),
    -- Reservation taken from the template at publish; released (unwon part) after the end.
    reserved            integer NOT NULL DEFAULT 0,
    released            boolean NOT NULL DEFAULT false,
    settled             integer NOT NULL DEFAULT 0,
    redeemed            integer NOT NULL DEFAULT 0,
    CONSTRAINT campaign_prizes_kind_fields CHECK (
        (kind = 'coupon' AND coupon_template_id IS NOT NULL AND points IS NULL) OR
        (kind = 'points' AND points IS NOT NULL AND coupon_template_id IS NULL) OR
        (kind = 'nothing' AND points IS NULL AND coupon_template_id IS NULL AND quantity IS NULL)),
    CONSTRAINT campaign_prizes_position_key UNIQUE (campaign_id, position)
);
CREATE INDEX campaign_prizes_template_idx ON campaign_prizes (coupon_template_id);

CREATE TABLE draws (
    id               text PRIMARY KEY,
    merchant_id      text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    campaign_id      text NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    member_id        text NOT NULL REFERENCES members (id),
    prize_id         text REFERENCES campaign_prizes (id),
    outcome          text NOT NULL CONSTRAINT draws_outcome_known CHECK (outcome IN ('win', 'lose')),
    -- The n-th win of its prize, handed out by Redis. Unique per prize and bounded by the
    -- prize's quantity at insert: PostgreSQL's own guard against oversell (invariant 1),
    -- even when Redis lost its counters.
    win_seq          integer,
    local_day        date NOT NULL,
    points_spent     integer NOT NULL DEFAULT 0,
    idempotency_key  text,
    response         jsonb NOT NULL,
    created_at       timestamptz NOT NULL,
    settled_at       timestamptz,
    CONSTRAINT draws_win_fields CHECK ((outcome = 'win') = (win_seq IS NOT NULL AND prize_id IS NOT NULL))
);
CREATE UNIQUE INDEX draws_prize_win_seq_key ON draws (prize_id, win_seq) WHERE win_seq IS NOT NULL;
CREATE INDEX draws_campaign_idx ON draws (campaign_id, id);
CREATE INDEX draws_member_idx ON draws (member_id, id DESC);
CREATE INDEX draws_unsettled_idx ON draws (campaign_id, id) WHERE outcome = 'win' AND settled_at IS NULL;
