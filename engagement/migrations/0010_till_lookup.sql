-- The till finds a member by the last four digits of a phone (手机尾号): the customer says
-- "尾号 8000" and the cashier picks from the few members it matches. Without this index
-- that is a scan of all the merchant's members on every lookup.
-- depends: 0009_till

CREATE INDEX members_merchant_phone_tail_idx ON members (merchant_id, right(phone, 4))
    WHERE phone IS NOT NULL;
