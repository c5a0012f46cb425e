-- Orders and refunds (core); referral programs, share links, bindings and the commission
-- ledger (referrals domain).
-- depends: 0003_campaigns

-- An order is identified by the merchant's own id: posting it twice is one order.
CREATE TABLE orders (
    merchant_id   text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    id            text NOT NULL,
    member_id     text NOT NULL REFERENCES members (id),
    amount        bigint NOT NULL CONSTRAINT orders_amount_nonnegative CHECK (amount >= 0),
    refunded      bigint NOT NULL DEFAULT 0,
    coupon_codes  text[] NOT NULL DEFAULT '{}',
    -- Hash of the request body: the same id with another body is a conflict, not a replay.
    request_hash  text NOT NULL,
    -- The first response, replayed verbatim to a retry of the same request.
    response      jsonb NOT NULL,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (merchant_id, id),
    -- Refunds add up to at most what was paid, whatever the concurrency.
    CONSTRAINT orders_refunded_within_paid CHECK (refunded >= 0 AND refunded <= amount)
);
CREATE INDEX orders_member_idx ON orders (member_id, created_at);

CREATE TABLE order_refunds (
    id               text PRIMARY KEY,
    merchant_id      text NOT NULL,
    order_id         text NOT NULL,
    -- The client's key for this refund (body "id" or Idempotency-Key): a retry is a replay.
    refund_key       text,
    amount           bigint NOT NULL CONSTRAINT order_refunds_amount_positive CHECK (amount > 0),
    -- What had been refunded before this one: refunds of one order are serialised by a row
    -- lock, so each refund's commission reversal is a pure function of its own row.
    refunded_before  bigint NOT NULL CONSTRAINT order_refunds_before_nonnegative CHECK (refunded_before >= 0),
    response         jsonb NOT NULL,
    created_at       timestamptz NOT NULL,
    FOREIGN KEY (merchant_id, order_id) REFERENCES orders (merchant_id, id) ON DELETE CASCADE,
    CONSTRAINT order_refunds_key UNIQUE (merchant_id, order_id, refund_key)
);
CREATE INDEX order_refunds_order_idx ON order_refunds (merchant_id, order_id, id);

-- One referral program per merchant. levels: commission rate per level, in basis points of
-- the paid amount (level 1 = the buyer's referrer).
CREATE TABLE referral_programs (
    merchant_id                 text PRIMARY KEY REFERENCES merchants (id) ON DELETE CASCADE,
    enabled                     boolean NOT NULL,
    reward_coupon_template_id   text REFERENCES coupon_templates (id),
    share_template_ids          text[] NOT NULL DEFAULT '{}',
    level_rates_bp              integer[] NOT NULL,
    trigger                     text NOT NULL CONSTRAINT referral_programs_trigger_known CHECK (trigger IN ('first_order', 'every_order')),
    hold_days                   integer NOT NULL CONSTRAINT referral_programs_hold_days_range CHECK (hold_days BETWEEN 0 AND 365),
    max_paid_referrals_per_day  integer CONSTRAINT referral_programs_daily_cap_positive CHECK (max_paid_referrals_per_day > 0),
    max_joins_per_ip_per_hour   integer CONSTRAINT referral_programs_ip_cap_positive CHECK (max_joins_per_ip_per_hour > 0),
    updated_at                  timestamptz NOT NULL,
    -- Invariant 7: commission depth is bounded (three levels at most, as the law on
    -- multi-level selling in China draws the line there).
    CONSTRAINT referral_programs_levels_bounded CHECK (cardinality(level_rates_bp) BETWEEN 1 AND 3)
);

CREATE TABLE share_links (
    id                  text PRIMARY KEY,
    merchant_id         text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    member_id           text NOT NULL REFERENCES members (id),
    -- Short and public: /r/{code} carries no merchant, so codes are unique across merchants.
    code                text NOT NULL CONSTRAINT share_links_code_key UNIQUE,
    coupon_template_id  text REFERENCES coupon_templates (id),
    joins               integer NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL
);
-- One link per member and coupon: asking again returns the same link.
CREATE UNIQUE INDEX share_links_member_template_key
    ON share_links (member_id, coalesce(coupon_template_id, ''));

-- The edge member -> referrer (members.referrer_id) with how it came about and whether
-- commission may flow across it: active, held for review, or rejected by the merchant.
CREATE TABLE referral_bindings (
    member_id      text PRIMARY KEY REFERENCES members (id),
    merchant_id    text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    referrer_id    text NOT NULL REFERENCES members (id),
    share_link_id  text REFERENCES share_links (id),
    ip             inet,
    status         text NOT NULL CONSTRAINT referral_bindings_status_known CHECK (status IN ('active', 'held', 'rejected')),
    hold_reason    text,
    coupon_code    text,
    created_at     timestamptz NOT NULL,
    reviewed_at    timestamptz,
    CONSTRAINT referral_bindings_no_self CHECK (member_id <> referrer_id)
);
CREATE INDEX referral_bindings_referrer_idx ON referral_bindings (referrer_id, created_at DESC);
CREATE INDEX referral_bindings_link_ip_idx ON referral_bindings (share_link_id, ip, created_at);
CREATE INDEX referral_bindings_held_idx ON referral_bindings (merchant_id, created_at) WHERE status = 'held';

-- A bound member's first order: the row is the "once" for the first_order trigger, even
-- when two first orders arrive at the same moment.
CREATE TABLE referral_first_orders (
    member_id    text PRIMARY KEY REFERENCES members (id),
    merchant_id  text NOT NULL,
    order_id     text NOT NULL
);

-- Orders that earned a beneficiary commission, per merchant-local day: the daily cap.
CREATE TABLE referral_daily_counts (
    beneficiary_id  text NOT NULL REFERENCES members (id),
    day             date NOT NULL,
    paid            integer NOT NULL CONSTRAINT referral_daily_counts_paid_positive CHECK (paid > 0),
    PRIMARY KEY (beneficiary_id, day)
);

-- The commission ledger (invariants 3 and 8). Append-only: rows are never deleted and their
-- amounts never change; an accrual's status moves held -> pending -> available (or held ->
-- rejected), nothing else. Reversals (refund during the hold) and clawbacks (refund after
-- release) are negative entries of their own; every balance is a sum of entries.
CREATE TABLE commission_entries (
    id              text PRIMARY KEY,
    merchant_id     text NOT NULL,
    order_id        text NOT NULL,
    beneficiary_id  text NOT NULL REFERENCES members (id),
    buyer_id        text NOT NULL REFERENCES members (id),
    level           smallint NOT NULL CONSTRAINT commission_entries_level_range CHECK (level BETWEEN 1 AND 3),
    kind            text NOT NULL CONSTRAINT commission_entries_kind_known CHECK (kind IN ('accrual', 'reversal', 'clawback')),
    -- 'order' for the accrual, 'refund:<refund id>' for what a refund reverses.
    cause           text NOT NULL,
    refund_id       text REFERENCES order_refunds (id),
    amount          bigint NOT NULL,
    rate_bp         integer NOT NULL CONSTRAINT commission_entries_rate_range CHECK (rate_bp BETWEEN 0 AND 10000),
    status          text NOT NULL,
    -- While held: the member whose binding is under review.
    held_by         text,
    available_at    timestamptz NOT NULL,
    created_at      timestamptz NOT NULL,
    released_at     timestamptz,
    FOREIGN KEY (merchant_id, order_id) REFERENCES orders (merchant_id, id) ON DELETE CASCADE,
    -- Exactly once: one accrual per (order, beneficiary, level), one entry per refund of it,
    -- whatever retries or duplicate deliveries happen.
    CONSTRAINT commission_entries_once UNIQUE (merchant_id, order_id, beneficiary_id, level, cause),
    CONSTRAINT commission_entries_sign CHECK ((kind = 'accrual') = (amount > 0) AND amount <> 0),
    CONSTRAINT commission_entries_status_known CHECK (
        (kind = 'accrual' AND status IN ('held', 'pending', 'available', 'rejected')) OR
        (kind <> 'accrual' AND status = 'reversed')),
    CONSTRAINT commission_entries_cause_matches CHECK ((kind = 'accrual') = (cause = 'order'))
);
CREATE INDEX commission_entries_beneficiary_idx ON commission_entries (beneficiary_id, id DESC);
CREATE INDEX commission_entries_due_idx ON commission_entries (available_at) WHERE status = 'pending';
CREATE INDEX commission_entries_held_idx ON commission_entries (held_by) WHERE status = 'held';

CREATE FUNCTION commission_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.amount, NEW.kind, NEW.cause, NEW.level, NEW.beneficiary_id, NEW.order_id,
        NEW.merchant_id, NEW.rate_bp) IS DISTINCT FROM
       (OLD.amount, OLD.kind, OLD.cause, OLD.level, OLD.beneficiary_id, OLD.order_id,
        OLD.merchant_id, OLD.rate_bp)
       OR NOT (NEW.status = OLD.status
               OR (OLD.status = 'held' AND NEW.status IN ('pending', 'rejected'))
               OR (OLD.status = 'pending' AND NEW.status = 'available')) THEN
        RAISE EXCEPTION 'commission entries are append-only'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'commission_entries_append_only';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER commission_entries_append_only BEFORE UPDATE ON commission_entries
    FOR EACH ROW EXECUTE FUNCTION commission_entries_append_only();

-- Invariant 7, the referral graph is a forest: a member's referrer is set once, never
-- changed, belongs to the same merchant and is strictly older than the member (by
-- created_at, then id). Every edge points to an older member, so no chain of referrers can
-- loop back, even when two bindings race.
CREATE FUNCTION members_referral_forest() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ref members%ROWTYPE;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.referrer_id IS NOT DISTINCT FROM NEW.referrer_id THEN
            RETURN NEW;
        END IF;
        IF OLD.referrer_id IS NOT NULL THEN
            RAISE EXCEPTION 'a referrer is bound once and never changes'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'members_referral_forest';
        END IF;
    END IF;
    IF NEW.referrer_id IS NULL THEN
        RETURN NEW;
    END IF;
    SELECT * INTO ref FROM members WHERE id = NEW.referrer_id;
    IF ref.merchant_id IS DISTINCT FROM NEW.merchant_id
       OR (ref.created_at, ref.id) >= (NEW.created_at, NEW.id) THEN
        RAISE EXCEPTION 'a referrer must be an older member of the same merchant'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'members_referral_forest';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER members_referral_forest BEFORE INSERT OR UPDATE OF referrer_id ON members
    FOR EACH ROW EXECUTE FUNCTION members_referral_forest();
