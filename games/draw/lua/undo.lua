-- Give back what draw.lua took when the draw could not be made durable (or was refused
-- after the script, e.g. for points, or answered from PostgreSQL's record of the same
-- Idempotency-Key): counters, the prize's win, the member's coupon holding, the
-- idempotency record. The member's pity streak is dropped, to be seeded again from
-- PostgreSQL, which holds the draws that stand.
-- KEYS: draw.lua's (DrawKeys). ARGV, laid out in one place (UndoArgs in
-- games/draw/protocol.py):
-- 1 prize_id ('' for a lose), 2 first_draw ('1' if it was the member's first draw),
-- 3 idempotent ('1' if it had an Idempotency-Key), 4 extra ('1' if it spent an earned
-- chance)
redis.call('DECR', KEYS[4])
redis.call('DECR', KEYS[5])
redis.call('HINCRBY', KEYS[8], 'draws', -1)
if ARGV[2] == '1' then redis.call('HINCRBY', KEYS[8], 'players', -1) end
if ARGV[1] ~= '' then
  redis.call('HINCRBY', KEYS[2], ARGV[1], -1)
  -- Only a holding that still exists is given back: recreating it would leave a hash
  -- without its expiry, holding one field instead of the member's real holdings.
  if redis.call('EXISTS', KEYS[9]) == 1 then
    for _, p in ipairs(cjson.decode(redis.call('HGET', KEYS[1], 'prizes') or '[]')) do
      if p.id == ARGV[1] and p.t then redis.call('HINCRBY', KEYS[9], 'h:' .. p.t, -1) end
    end
  end
end
if ARGV[3] == '1' then redis.call('DEL', KEYS[6]) end
if ARGV[4] == '1' and redis.call('EXISTS', KEYS[10]) == 1 then redis.call('DECR', KEYS[10]) end
redis.call('DEL', KEYS[11])
return 1
