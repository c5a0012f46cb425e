-- Change hot state only where it is primed; an unprimed campaign is primed from PostgreSQL
-- (which already holds the change) on its next draw. Wins and counters are never touched.
-- KEYS: 1 meta, 2 qty. ARGV: 1 meta fields (JSON object), 2 quantities (JSON prize -> n)
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for field, value in pairs(cjson.decode(ARGV[1])) do
  redis.call('HSET', KEYS[1], field, value)
end
for field, value in pairs(cjson.decode(ARGV[2])) do
  redis.call('HSET', KEYS[2], field, value)
end
return 1
