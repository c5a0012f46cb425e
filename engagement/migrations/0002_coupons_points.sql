-- Coupon templates (inventory with counters), coupons, and the points ledger.
-- depends: 0001_core

CREATE TABLE coupon_templates (
    id                text PRIMARY KEY,
    merchant_id       text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    name              text NOT NULL,
    discount          jsonb NOT NULL,
    min_spend         bigint NOT NULL DEFAULT 0 CONSTRAINT coupon_templates_min_spend_nonnegative CHECK (min_spend >= 0),
    -- NULL stock = unlimited. reserved: held by published campaigns; issued: coupons made.
    stock             integer CONSTRAINT coupon_templates_stock_nonnegative CHECK (stock >= 0),
    reserved          integer NOT NULL DEFAULT 0 CONSTRAINT coupon_templates_reserved_nonnegative CHECK (reserved >= 0),
    issued            integer NOT NULL DEFAULT 0 CONSTRAINT coupon_templates_issued_nonnegative CHECK (issued >= 0),
    redeemed          integer NOT NULL DEFAULT 0 CONSTRAINT coupon_templates_redeemed_le_issued CHECK (redeemed >= 0 AND redeemed <= issued),
    valid_days        integer CONSTRAINT coupon_templates_valid_days_positive CHECK (valid_days > 0),
    per_member_limit  integer CONSTRAINT coupon_templates_per_member_limit_positive CHECK (per_member_limit > 0),
    created_at        timestamptz NOT NULL DEFAULT now(),
    -- Invariant 1 (no oversell): reservations and issues never exceed the stock.
    CONSTRAINT coupon_templates_available_nonnegative CHECK (stock IS NULL OR stock - reserved - issued >= 0)
);
CREATE INDEX coupon_templates_merchant_idx ON coupon_templates (merchant_id, id);

CREATE TABLE coupons (
    id            text PRIMARY KEY,
    merchant_id   text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    template_id   text NOT NULL REFERENCES coupon_templates (id),
    member_id     text NOT NULL REFERENCES members (id),
    code          text NOT NULL,
    status        text NOT NULL DEFAULT 'issued'
                  CONSTRAINT coupons_status_known CHECK (status IN ('issued', 'redeemed', 'expired', 'void')),
    source        text NOT NULL,
    -- Invariant 3: one coupon per winning draw, whatever retries happen.
    draw_id       text CONSTRAINT coupons_draw_id_key UNIQUE,
    campaign_id   text,
    prize_id      text,
    valid_from    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    issued_at     timestamptz NOT NULL DEFAULT now(),
    redeemed_at   timestamptz,
    order_id      text,
    CONSTRAINT coupons_merchant_code_key UNIQUE (merchant_id, code)
);
CREATE INDEX coupons_member_idx ON coupons (member_id, id DESC);
CREATE INDEX coupons_template_idx ON coupons (template_id);
CREATE INDEX coupons_expiry_idx ON coupons (expires_at) WHERE status = 'issued';

-- Append-only: members.points is the cached sum of a member's entries, updated with them.
CREATE TABLE points_ledger (
    id           text PRIMARY KEY,
    merchant_id  text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    member_id    text NOT NULL REFERENCES members (id),
    delta        bigint NOT NULL CONSTRAINT points_ledger_delta_nonzero CHECK (delta <> 0),
    reason       text NOT NULL,
    -- What caused the entry (draw:..., draw_entry:..., order:...): once per cause.
    ref          text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    CONSTRAINT points_ledger_ref_key UNIQUE (merchant_id, ref)
);
CREATE INDEX points_ledger_member_idx ON points_ledger (member_id, id DESC);
