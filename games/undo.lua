-- Give back what draw.lua took when the draw could not be made durable (or was refused
-- after the script, e.g. for points): counters, the prize's win, the idempotency record.
-- KEYS: as draw.lua. ARGV: 1 prize id ('' for a lose), 2 '1' if it was the member's first
-- draw, 3 '1' if idempotent
redis.call('DECR', KEYS[4])
redis.call('DECR', KEYS[5])
redis.call('HINCRBY', KEYS[8], 'draws', -1)
if ARGV[2] == '1' then redis.call('HINCRBY', KEYS[8], 'players', -1) end
if ARGV[1] ~= '' then redis.call('HINCRBY', KEYS[2], ARGV[1], -1) end
if ARGV[3] == '1' then redis.call('DEL', KEYS[6]) end
return 1
