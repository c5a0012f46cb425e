-- Reading by store and by day: the console's till summary and the campaign dashboard's
-- store filter.
-- depends: 0010_till_lookup

-- The till summary counts the refunds made on a day (the cash that left the till), whatever
-- day their order was taken: one merchant's refunds by time.
CREATE INDEX order_refunds_merchant_time_idx ON order_refunds (merchant_id, created_at);

-- The campaign dashboard's store filter counts a campaign's coupons redeemed at one store,
-- every few seconds while it is open: a small index of redeemed campaign coupons.
CREATE INDEX coupons_campaign_store_idx ON coupons (campaign_id, store_id)
    WHERE status = 'redeemed' AND campaign_id IS NOT NULL;
