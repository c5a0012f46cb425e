-- The till summary counts the refunds made on a day (the cash that left the till), whatever
-- day their order was taken: one merchant's refunds by time.
-- depends: 0009_till

CREATE INDEX order_refunds_merchant_time_idx ON order_refunds (merchant_id, created_at);
