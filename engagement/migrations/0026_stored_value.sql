-- Stored value (储值): top-up plans (充500送50), and each member's balance as an
-- append-only ledger of principal (money paid in) and bonus (what the plan added). A
-- member's balance is the ledger's sum; every write takes the member's advisory lock and
-- checks that neither part goes below zero (engagement/loyalty/wallet/service.py).
-- depends: 0024_api_key_names

CREATE TABLE top_up_programs (
    merchant_id  text PRIMARY KEY REFERENCES merchants (id) ON DELETE CASCADE,
    spend_order  text NOT NULL DEFAULT 'principal_first'
                 CONSTRAINT top_up_programs_spend_order_known
                 CHECK (spend_order IN ('principal_first', 'bonus_first')),
    updated_at   timestamptz NOT NULL
);

CREATE TABLE top_up_plans (
    id           text PRIMARY KEY,
    merchant_id  text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    pay          bigint NOT NULL CONSTRAINT top_up_plans_pay_positive CHECK (pay > 0),
    bonus        bigint NOT NULL CONSTRAINT top_up_plans_bonus_range CHECK (bonus >= 0 AND bonus <= pay),
    CONSTRAINT top_up_plans_pay_key UNIQUE (merchant_id, pay)
);

CREATE TABLE balance_ledger (
    id           text PRIMARY KEY,
    merchant_id  text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    member_id    text NOT NULL REFERENCES members (id),
    kind         text NOT NULL CONSTRAINT balance_ledger_kind_known
                 CHECK (kind IN ('top_up', 'spend', 'refund', 'card_refund', 'forfeit')),
    principal    bigint NOT NULL,
    bonus        bigint NOT NULL,
    order_id     text,
    store_id     text REFERENCES stores (id),
    staff_id     text,
    created_at   timestamptz NOT NULL,
    CONSTRAINT balance_ledger_moves CHECK (principal <> 0 OR bonus <> 0),
    CONSTRAINT balance_ledger_top_up_credits CHECK (kind <> 'top_up' OR (principal > 0 AND bonus >= 0))
);
CREATE INDEX balance_ledger_member_idx ON balance_ledger (member_id, id DESC);
