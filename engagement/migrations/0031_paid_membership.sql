-- Paid membership (付费会员卡): a merchant's plans (price, days, a discount, a monthly
-- coupon), each member's one running membership (a renewal moves its end), every purchase
-- (the revenue the console's figures count), and the monthly coupons given, one per member
-- and calendar month by a primary key, however often or concurrently the job runs.
-- depends: 0030_balance_payments

CREATE TABLE membership_plans (
    id                          text PRIMARY KEY,
    merchant_id                 text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    name                        text NOT NULL,
    price                       bigint NOT NULL CONSTRAINT membership_plans_price_positive CHECK (price > 0),
    days                        integer NOT NULL CONSTRAINT membership_plans_days_positive CHECK (days > 0),
    discount_percent            integer NOT NULL DEFAULT 0
                                CONSTRAINT membership_plans_discount_range
                                CHECK (discount_percent >= 0 AND discount_percent <= 95),
    monthly_coupon_template_id  text REFERENCES coupon_templates (id),
    position                    integer NOT NULL,
    -- A replaced plan is archived, not deleted: running memberships keep their terms.
    archived_at                 timestamptz
);
CREATE INDEX membership_plans_merchant_idx ON membership_plans (merchant_id, position)
    WHERE archived_at IS NULL;

CREATE TABLE memberships (
    member_id      text PRIMARY KEY REFERENCES members (id),
    merchant_id    text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    plan_id        text NOT NULL REFERENCES membership_plans (id),
    starts_at      timestamptz NOT NULL,
    ends_at        timestamptz NOT NULL,
    -- When membership.ended was published for this ends_at (NULL: not yet).
    ended_at       timestamptz,
    CONSTRAINT memberships_ends_after_start CHECK (ends_at > starts_at)
);
CREATE INDEX memberships_running_idx ON memberships (merchant_id, ends_at);
CREATE INDEX memberships_ending_idx ON memberships (ends_at) WHERE ended_at IS NULL;

CREATE TABLE membership_purchases (
    id              text PRIMARY KEY,
    merchant_id     text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    member_id       text NOT NULL REFERENCES members (id),
    plan_id         text NOT NULL REFERENCES membership_plans (id),
    price           bigint NOT NULL CONSTRAINT membership_purchases_price_positive CHECK (price > 0),
    paid_with       text NOT NULL CONSTRAINT membership_purchases_paid_with_known
                    CHECK (paid_with IN ('cash', 'balance')),
    renewal         boolean NOT NULL,
    -- The period this purchase paid for.
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    balance_entry_id text REFERENCES balance_ledger (id),
    staff_id        text,
    created_at      timestamptz NOT NULL,
    CONSTRAINT membership_purchases_balance_entry
        CHECK ((paid_with = 'balance') = (balance_entry_id IS NOT NULL))
);
CREATE INDEX membership_purchases_merchant_idx ON membership_purchases (merchant_id, id);

CREATE TABLE membership_coupon_grants (
    member_id    text NOT NULL REFERENCES members (id),
    month        text NOT NULL,  -- YYYY-MM in the merchant's time zone
    merchant_id  text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    plan_id      text NOT NULL REFERENCES membership_plans (id),
    coupon_id    text,  -- set in the claim's transaction, once the coupon is issued
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (member_id, month)
);

-- An order of a paid member: the member discount comes off the subtotal before the coupons.
ALTER TABLE orders ADD COLUMN member_discount bigint NOT NULL DEFAULT 0
    CONSTRAINT orders_member_discount_nonnegative CHECK (member_discount >= 0);
ALTER TABLE orders DROP CONSTRAINT orders_priced_consistently;
ALTER TABLE orders ADD CONSTRAINT orders_priced_consistently CHECK (
    subtotal IS NULL AND discount = 0 AND member_discount = 0
    OR discount >= 0 AND member_discount + discount <= subtotal
       AND amount = subtotal - member_discount - discount);
