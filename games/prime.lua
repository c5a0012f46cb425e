-- Write a campaign's hot state in one step, so a draw sees all of it or none of it.
-- KEYS: 1 meta, 2 wins, 3 qty, 4 stats. ARGV: 1 meta (JSON object), 2 wins, 3 qty,
-- 4 stats (JSON objects of field -> value)
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
for i = 2, 4 do
  for field, value in pairs(cjson.decode(ARGV[i])) do
    redis.call('HSET', KEYS[i], field, value)
  end
end
for field, value in pairs(cjson.decode(ARGV[1])) do
  redis.call('HSET', KEYS[1], field, value)
end
return 1
