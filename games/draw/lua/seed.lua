-- A member's coupon holdings for a campaign's coupon prizes, written once while absent
-- (a hash that exists has counted wins since it was seeded and must not be set back).
-- KEYS: 1 the member's holdings hash. ARGV: 1 seconds to keep it (so new limits and coupons
-- from other sources are seen again soon), then field, value pairs
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], '_', '1')
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
