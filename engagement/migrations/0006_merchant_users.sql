-- People who sign in to the merchant console (email and an argon2 password hash), and
-- indexes for the console's member list and exports.
-- depends: 0004_orders_referrals

CREATE TABLE merchant_users (
    id             text PRIMARY KEY,
    merchant_id    text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    -- Stored lower-cased: one person, one login, whatever case they type.
    email          text NOT NULL CONSTRAINT merchant_users_email_lower CHECK (email = lower(email)),
    password_hash  text NOT NULL,
    created_at     timestamptz NOT NULL,
    last_login_at  timestamptz,
    -- The email alone names the merchant at sign-in, so it is unique across merchants.
    CONSTRAINT merchant_users_email_key UNIQUE (email)
);
CREATE INDEX merchant_users_merchant_idx ON merchant_users (merchant_id);

-- What the console's lists and CSV exports read in id order, one merchant at a time: without
-- these, a merchant's export would walk every merchant's rows.
CREATE INDEX members_merchant_idx ON members (merchant_id, id DESC);
CREATE INDEX coupons_merchant_idx ON coupons (merchant_id, id);
CREATE INDEX commission_entries_merchant_idx ON commission_entries (merchant_id, id);
