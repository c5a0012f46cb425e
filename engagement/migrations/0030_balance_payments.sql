-- depends: 0029_stock_reconciliation
-- Stored value at the till: the payment method of a top-up, the member's payment PIN with
-- its failure count and lock (written in their own transactions, so that a wrong PIN counts
-- although the order it came with rolls back), and the part of an order paid from the
-- balance (a refund returns its share of it).

ALTER TABLE balance_ledger ADD COLUMN payment_method text
    CONSTRAINT balance_ledger_payment_method_known
    CHECK (payment_method IN ('cash', 'wechat', 'alipay', 'card'));

CREATE TABLE balance_pins (
    member_id     text PRIMARY KEY REFERENCES members (id),
    merchant_id   text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    pin_hash      text,
    failures      integer NOT NULL DEFAULT 0 CONSTRAINT balance_pins_failures_range
                  CHECK (failures >= 0 AND failures <= 5),
    locked_until  timestamptz,
    updated_at    timestamptz NOT NULL
);

ALTER TABLE orders ADD COLUMN paid_with_balance bigint NOT NULL DEFAULT 0
    CONSTRAINT orders_paid_with_balance_range
    CHECK (paid_with_balance >= 0 AND paid_with_balance <= amount);

-- A refund's ledger row names its refund: a refund returns its share to the balance once.
ALTER TABLE balance_ledger ADD COLUMN refund_id text;
CREATE UNIQUE INDEX balance_ledger_refund_key ON balance_ledger (refund_id)
    WHERE refund_id IS NOT NULL;
CREATE INDEX balance_ledger_order_idx ON balance_ledger (merchant_id, order_id)
    WHERE order_id IS NOT NULL;
