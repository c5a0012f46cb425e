-- The till: stores, staff roles, orders priced by the service (subtotal, discount, the
-- coupons and what each took off), guest orders (支付即会员) and coupons a whole refund gives
-- back.
-- depends: 0008_draw_idempotency

CREATE TABLE stores (
    id           text PRIMARY KEY,
    merchant_id  text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    name         text NOT NULL,
    created_at   timestamptz NOT NULL,
    CONSTRAINT stores_merchant_name_key UNIQUE (merchant_id, name),
    -- The target of the (merchant, store) foreign keys below: a row can only name a store
    -- of its own merchant.
    CONSTRAINT stores_merchant_id_key UNIQUE (merchant_id, id)
);

-- Console users get a role, optionally a store, and are removed rather than deleted: the
-- orders they took keep naming them in the till summary.
ALTER TABLE merchant_users
    ADD COLUMN role text NOT NULL DEFAULT 'owner'
        CONSTRAINT merchant_users_role_known CHECK (role IN ('owner', 'manager', 'cashier')),
    ADD COLUMN store_id text,
    ADD COLUMN removed_at timestamptz,
    ADD CONSTRAINT merchant_users_store_fk FOREIGN KEY (merchant_id, store_id)
        REFERENCES stores (merchant_id, id);
-- Everyone who could sign in before roles existed was the merchant's owner; from now on the
-- code names the role of every new user.
ALTER TABLE merchant_users ALTER COLUMN role DROP DEFAULT;
-- One active login per email; a removed person may be added again later.
ALTER TABLE merchant_users DROP CONSTRAINT merchant_users_email_key;
CREATE UNIQUE INDEX merchant_users_email_key ON merchant_users (email) WHERE removed_at IS NULL;

-- subtotal: cents before coupons, when the service priced the order (NULL: an old-style
-- order whose amount the till worked out itself). discount: what the coupons took off.
-- guest_phone: a guest order's phone; member_id is set once, when that phone joins.
ALTER TABLE orders
    ALTER COLUMN member_id DROP NOT NULL,
    ADD COLUMN subtotal bigint CONSTRAINT orders_subtotal_nonnegative CHECK (subtotal >= 0),
    ADD COLUMN discount bigint NOT NULL DEFAULT 0,
    ADD COLUMN store_id text,
    ADD COLUMN staff_id text REFERENCES merchant_users (id),
    ADD COLUMN guest_phone text,
    ADD COLUMN claimed_at timestamptz,
    ADD COLUMN coupons_returned_at timestamptz,
    ADD CONSTRAINT orders_store_fk FOREIGN KEY (merchant_id, store_id)
        REFERENCES stores (merchant_id, id),
    ADD CONSTRAINT orders_member_or_guest CHECK (member_id IS NOT NULL OR guest_phone IS NOT NULL),
    -- A priced order: subtotal - discount = amount, and no discount beyond the subtotal.
    ADD CONSTRAINT orders_priced_consistently CHECK (
        subtotal IS NULL AND discount = 0
        OR discount >= 0 AND discount <= subtotal AND amount = subtotal - discount);
CREATE INDEX orders_guest_idx ON orders (merchant_id, guest_phone, created_at)
    WHERE member_id IS NULL;
-- The till summary and the order list read one merchant's orders by time.
CREATE INDEX orders_merchant_time_idx ON orders (merchant_id, created_at);

-- What each coupon of an order took off, as priced at the till: the receipt, the summary's
-- discount, and which coupons a whole refund gives back.
CREATE TABLE order_coupons (
    merchant_id  text NOT NULL,
    order_id     text NOT NULL,
    code         text NOT NULL,
    coupon_id    text NOT NULL REFERENCES coupons (id),
    discount     bigint NOT NULL CONSTRAINT order_coupons_discount_nonnegative CHECK (discount >= 0),
    PRIMARY KEY (merchant_id, order_id, code),
    FOREIGN KEY (merchant_id, order_id) REFERENCES orders (merchant_id, id) ON DELETE CASCADE
);

-- Where a coupon was redeemed (the store filter of exports and the dashboard).
ALTER TABLE coupons ADD COLUMN store_id text;

-- Stackable coupons may go together on one order; by default one coupon per order.
ALTER TABLE coupon_templates ADD COLUMN stackable boolean NOT NULL DEFAULT false;
