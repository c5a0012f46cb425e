-- Write a campaign's hot state in one step, so a draw sees all of it or none of it.
-- Primed state is never overwritten: its counters run ahead of what PostgreSQL has yet
-- recorded, and setting them back would hand out win sequence numbers twice.
-- KEYS: 1 meta, 2 wins, 3 qty, 4 stats. ARGV: 1 meta (JSON object), 2 wins, 3 qty,
-- 4 stats (JSON objects of field -> value)
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
for i = 2, 4 do
  for field, value in pairs(cjson.decode(ARGV[i])) do
    redis.call('HSET', KEYS[i], field, value)
  end
end
for field, value in pairs(cjson.decode(ARGV[1])) do
  redis.call('HSET', KEYS[1], field, value)
end
return 1
