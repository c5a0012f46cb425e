-- The repairs that are safe whatever draws are in flight (games/reconcile/service.py):
-- a prize's wins counter is only ever raised, to PostgreSQL's count of its wins, and only
-- while it is below it; a quantity is set to PostgreSQL's only while it is still the value
-- the caller read (so a patch landing meanwhile is kept). Nothing without primed state.
-- Draws in flight only ever add to the wins counter before their rows commit, so a counter
-- below the committed count is never a correct state, and raising it hands no win out.
-- KEYS: 1 meta, 2 wins, 3 qty. ARGV: 1 recorded wins (JSON prize -> n, as text),
-- 2 quantities (JSON prize -> [seen, recorded]: seen is the value read, '' for none)
-- Reply: {raised (prize, before, ...), quantities set (prize, before or '', ...)}
if redis.call('EXISTS', KEYS[1]) == 0 then return {{}, {}} end
local raised, set = {}, {}
for prize, recorded in pairs(cjson.decode(ARGV[1])) do
  local before = redis.call('HGET', KEYS[2], prize) or '0'
  if tonumber(before) < tonumber(recorded) then
    redis.call('HSET', KEYS[2], prize, recorded)
    raised[#raised + 1] = prize
    raised[#raised + 1] = before
  end
end
for prize, q in pairs(cjson.decode(ARGV[2])) do
  local now = redis.call('HGET', KEYS[3], prize) or ''
  if now == q[1] and now ~= q[2] then
    redis.call('HSET', KEYS[3], prize, q[2])
    set[#set + 1] = prize
    set[#set + 1] = now
  end
end
return {raised, set}
