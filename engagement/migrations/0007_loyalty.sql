-- Loyalty: the points program (earning rules, join bonus, expiry), idempotent responses for
-- loyalty POSTs, the points mall (rewards with their own stock, redemptions) and tiers.
-- depends: 0006_merchant_users

CREATE TABLE points_programs (
    merchant_id      text PRIMARY KEY REFERENCES merchants (id) ON DELETE CASCADE,
    -- earn_points for every whole earn_per_amount cents paid (1 point per 100 cents = ¥1).
    earn_per_amount  bigint NOT NULL CONSTRAINT points_programs_per_amount_positive CHECK (earn_per_amount > 0),
    earn_points      bigint NOT NULL CONSTRAINT points_programs_points_nonnegative CHECK (earn_points >= 0),
    join_bonus       bigint NOT NULL DEFAULT 0 CONSTRAINT points_programs_join_bonus_nonnegative CHECK (join_bonus >= 0),
    -- NULL: points never expire.
    expiry_days      integer CONSTRAINT points_programs_expiry_days_positive CHECK (expiry_days > 0),
    updated_at       timestamptz NOT NULL
);

-- Due credits are found by expiry. Each credit is settled once (this table's key); what
-- was left of it is taken back by a ledger entry keyed 'expire:<entry id>' (none when the
-- credit had been spent in full: the ledger refuses zero entries).
CREATE INDEX points_ledger_expiry_idx ON points_ledger (expires_at) WHERE delta > 0 AND expires_at IS NOT NULL;
CREATE TABLE points_expirations (
    entry_id     text PRIMARY KEY REFERENCES points_ledger (id),
    member_id    text NOT NULL REFERENCES members (id),
    amount       bigint NOT NULL CONSTRAINT points_expirations_amount_nonnegative CHECK (amount >= 0),
    settled_at   timestamptz NOT NULL
);
CREATE INDEX points_expirations_member_idx ON points_expirations (member_id);

-- The first response to a POST carrying an Idempotency-Key, replayed to its retries. The
-- row is inserted first in the request's transaction, so a concurrent twin waits on the
-- key and then replays instead of acting twice.
CREATE TABLE idempotent_responses (
    merchant_id   text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    scope         text NOT NULL,
    key           text NOT NULL,
    request_hash  text NOT NULL,
    status        integer,
    response      jsonb,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (merchant_id, scope, key)
);
CREATE INDEX idempotent_responses_created_idx ON idempotent_responses (created_at);

-- Points mall (积分商城): a coupon template priced in points, with its own stock.
CREATE TABLE rewards (
    id                  text PRIMARY KEY,
    merchant_id         text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    coupon_template_id  text NOT NULL REFERENCES coupon_templates (id),
    cost_points         bigint NOT NULL CONSTRAINT rewards_cost_points_positive CHECK (cost_points > 0),
    stock               integer NOT NULL CONSTRAINT rewards_stock_nonnegative CHECK (stock >= 0),
    redeemed            integer NOT NULL DEFAULT 0,
    active              boolean NOT NULL DEFAULT true,
    created_at          timestamptz NOT NULL,
    -- Never oversold: redemptions never pass the reward's stock.
    CONSTRAINT rewards_redeemed_within_stock CHECK (redeemed >= 0 AND redeemed <= stock)
);
CREATE INDEX rewards_merchant_idx ON rewards (merchant_id, id DESC);

CREATE TABLE reward_redemptions (
    id            text PRIMARY KEY,
    merchant_id   text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    reward_id     text NOT NULL REFERENCES rewards (id),
    member_id     text NOT NULL REFERENCES members (id),
    coupon_id     text NOT NULL CONSTRAINT reward_redemptions_coupon_key UNIQUE REFERENCES coupons (id),
    points_spent  bigint NOT NULL,
    created_at    timestamptz NOT NULL
);
CREATE INDEX reward_redemptions_member_idx ON reward_redemptions (member_id, id DESC);

-- Tiers (等级): the highest tier whose threshold a member meets over its window.
CREATE TABLE tiers (
    merchant_id                text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    rank                       integer NOT NULL,
    name                       text NOT NULL,
    min_points                 bigint CONSTRAINT tiers_min_points_nonnegative CHECK (min_points >= 0),
    min_spend                  bigint CONSTRAINT tiers_min_spend_nonnegative CHECK (min_spend >= 0),
    window_days                integer NOT NULL CONSTRAINT tiers_window_days_positive CHECK (window_days > 0),
    monthly_coupon_template_id text REFERENCES coupon_templates (id),
    PRIMARY KEY (merchant_id, rank),
    CONSTRAINT tiers_merchant_name_key UNIQUE (merchant_id, name),
    CONSTRAINT tiers_one_threshold CHECK ((min_points IS NULL) <> (min_spend IS NULL))
);

-- Each tier change, for the member's history and the merchant's distribution reports.
CREATE TABLE tier_changes (
    id           text PRIMARY KEY,
    merchant_id  text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    member_id    text NOT NULL REFERENCES members (id),
    from_tier    text,
    to_tier      text,
    created_at   timestamptz NOT NULL
);
CREATE INDEX tier_changes_member_idx ON tier_changes (member_id, id DESC);

-- A tier's monthly coupon, once per member and month whatever reruns of the daily job.
CREATE TABLE tier_benefit_grants (
    merchant_id  text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    member_id    text NOT NULL REFERENCES members (id),
    month        text NOT NULL,
    tier         text NOT NULL,
    coupon_id    text REFERENCES coupons (id),
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (member_id, month)
);

-- Sends (主动发券): a coupon to a segment, with a random holdout to measure the lift. A send
-- with repeat = 'daily' is a definition (status 'scheduled'): each day the cron makes one
-- run of it (parent_id, run_date), a send like any other.
CREATE TABLE sends (
    id                  text PRIMARY KEY,
    merchant_id         text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    name                text NOT NULL,
    coupon_template_id  text NOT NULL REFERENCES coupon_templates (id),
    segment             jsonb NOT NULL,
    holdout_percent     integer NOT NULL CONSTRAINT sends_holdout_percent_range CHECK (holdout_percent BETWEEN 0 AND 90),
    repeat              text CONSTRAINT sends_repeat_known CHECK (repeat IN ('daily')),
    parent_id           text REFERENCES sends (id),
    run_date            date,
    status              text NOT NULL CONSTRAINT sends_status_known
                        CHECK (status IN ('scheduled', 'queued', 'running', 'done', 'failed')),
    error               text,
    targeted            integer NOT NULL DEFAULT 0,
    held_out            integer NOT NULL DEFAULT 0,
    issued              integer NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL,
    started_at          timestamptz,
    finished_at         timestamptz,
    CONSTRAINT sends_run_once UNIQUE (parent_id, run_date)
);
CREATE INDEX sends_merchant_idx ON sends (merchant_id, id DESC);
CREATE INDEX sends_pending_idx ON sends (status) WHERE status IN ('queued', 'running');

-- Who a send targeted: treated members get a coupon (coupon_id, set once), the holdout none.
CREATE TABLE send_members (
    send_id    text NOT NULL REFERENCES sends (id) ON DELETE CASCADE,
    member_id  text NOT NULL REFERENCES members (id),
    held_out   boolean NOT NULL,
    coupon_id  text,
    PRIMARY KEY (send_id, member_id)
);
CREATE INDEX send_members_to_issue_idx ON send_members (send_id) WHERE NOT held_out AND coupon_id IS NULL;

-- Webhooks: merchants' endpoints, and an outbox of deliveries written in the transaction of
-- the event itself (so an event is delivered if and only if it committed), retried with
-- backoff for days, each attempt logged.
CREATE TABLE webhook_endpoints (
    id           text PRIMARY KEY,
    merchant_id  text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    url          text NOT NULL,
    events       text[] NOT NULL,
    -- Standard Webhooks secret: 'whsec_' + base64 of 32 random bytes.
    secret       text NOT NULL,
    created_at   timestamptz NOT NULL
);
CREATE INDEX webhook_endpoints_merchant_idx ON webhook_endpoints (merchant_id);

CREATE TABLE webhook_deliveries (
    id               text PRIMARY KEY,  -- the webhook-id header: receivers dedupe on it
    merchant_id      text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    endpoint_id      text NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    type             text NOT NULL,
    payload          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CONSTRAINT webhook_deliveries_status_known CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    last_status_code integer,
    last_error       text,
    created_at       timestamptz NOT NULL,
    delivered_at     timestamptz
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id DESC);

CREATE TABLE webhook_attempts (
    id           text PRIMARY KEY,
    delivery_id  text NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt      integer NOT NULL,
    status_code  integer,
    error        text,
    duration_ms  integer NOT NULL,
    created_at   timestamptz NOT NULL,
    CONSTRAINT webhook_attempts_once UNIQUE (delivery_id, attempt)
);
