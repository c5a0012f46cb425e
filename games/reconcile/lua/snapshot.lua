-- Read a campaign's stock counters in one step (games/reconcile/scripts.py).
-- KEYS: 1 meta, 2 wins, 3 qty (games/draw/protocol.py CampaignKeys).
-- Reply: {primed (1 or 0), wins (prize, n, ...), qty (prize, n, ...)}; empty when not primed.
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, {}, {}} end
return {1, redis.call('HGETALL', KEYS[2]), redis.call('HGETALL', KEYS[3])}
