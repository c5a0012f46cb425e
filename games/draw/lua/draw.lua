-- One draw, atomically: idempotency, status and window, limits, burst guard, pity (保底),
-- weighted pick with the caller's number (the provably fair r, games/draw/fairness.py),
-- stock, per-member coupon limits, counters. All keys share the campaign hash tag.
-- The layout below is defined in one place, games/draw/protocol.py (DrawKeys, DrawArgs,
-- parse_draw_reply): the names here are its field names, in its order.
-- KEYS: 1 meta, 2 wins, 3 qty, 4 day (the member's draws today), 5 total (the member's
--       draws), 6 idempotency, 7 burst (the member's burst counter), 8 stats, 9 held (the
--       member's coupon holdings, a hash: 'l:<template>' the template's per-member limit,
--       'h:<template>' coupons held or won; seeded from PostgreSQL by the caller when
--       absent, see 'seed'), 10 chances_used (the member's earned chances spent), 11 pity
--       (the member's consecutive loses, for a campaign with pity)
-- ARGV[1], tab-separated (one argument: the client packs each argument in Python, and
-- the draw path is hot): 1 now_ms, 2 rand (the pick, below the total weight), 3 draw_id, 4 created_at
-- (ISO), 5 idempotent ('1' or '0'), 6 request_hash, 7 campaign_id, 8 merchant_id, 9 day_ttl
-- (of the day counter), 10 idempotency_ttl, 11 record_checked ('1' once the caller has
-- looked for the key in PostgreSQL), 12 chances_earned (the member's earned chances as
-- PostgreSQL holds them, '-' when the caller did not look), 13 chances_used (PostgreSQL's
-- count of draws that spent one: the used counter's value when Redis has none), 14
-- pity_streak (PostgreSQL's count of the member's loses since the last win, '-' when the
-- caller did not look)
-- ARGV[2] and ARGV[3]: the client seed and the nonce the pick was made with (any text;
-- copied into the body's "fairness")
-- Reply, by verdict: {'ok', body, outcome, prize_id, seq, total, entry_cost, extra, pity}
-- (prize_id '' and seq 0 for a lose; extra '1' when the draw spent an earned chance; pity
-- '1' for a pity win),
-- {'replay', record}, {'not_active', status}, {'rate', ttl}, {'check_record'},
-- {'noprime'}, {'seed'}, {'not_found'}, {'limit'}, {'chances'} (the campaign grants
-- chances: call again with the member's chances_earned and chances_used), {'pity'} (the
-- campaign has pity and the member's streak is not in Redis: call again with pity_streak)
local args = {}
for field in string.gmatch(ARGV[1], '[^\t]+') do args[#args + 1] = field end
local meta = redis.call('HMGET', KEYS[1], 'merchant', 'status', 'starts_ms', 'ends_ms',
  'per_day', 'total', 'prizes', 'total_weight', 'rate_limit', 'rate_window', 'entry_cost',
  'recovered_ms', 'coupons', 'chances', 'pity_after', 'pity_prize')
if not meta[1] then return {'noprime'} end
if meta[1] ~= args[8] then return {'not_found'} end
if args[5] == '1' then
  local prev = redis.call('GET', KEYS[6])
  if prev then return {'replay', prev} end
  -- Hot state rebuilt after Redis lost it: the key's record may be gone with it, while
  -- its draw is in PostgreSQL. For as long as a record lives, ask the caller to look.
  if meta[12] and args[11] ~= '1' and tonumber(args[1]) - tonumber(meta[12]) < tonumber(args[10]) * 1000 then
    return {'check_record'}
  end
end
local now = tonumber(args[1])
if meta[2] ~= 'active' or (meta[3] ~= '' and now < tonumber(meta[3]))
   or (meta[4] ~= '' and now >= tonumber(meta[4])) then
  return {'not_active', meta[2]}
end
-- Earned chances: spent only once the free draws are used up, while the used counter is
-- below what PostgreSQL says was earned.
local earned, used, extra = 0, 0, false
if meta[14] == '1' then
  if args[12] == '-' then return {'chances'} end
  earned = tonumber(args[12])
  redis.call('SET', KEYS[10], args[13], 'NX')
  redis.call('EXPIRE', KEYS[10], tonumber(args[9]))
  used = tonumber(redis.call('GET', KEYS[10]))
end
local day = tonumber(redis.call('GET', KEYS[4]) or '0')
local tot = tonumber(redis.call('GET', KEYS[5]) or '0')
if (meta[5] ~= '' and day >= tonumber(meta[5])) or (meta[6] ~= '' and tot >= tonumber(meta[6])) then
  if used >= earned then return {'limit'} end
  extra = true
end
if meta[13] == '1' and redis.call('EXISTS', KEYS[9]) == 0 then return {'seed'} end
-- Pity: the member's loses in a row, seeded from PostgreSQL when Redis has none.
local pity_after, streak = tonumber(meta[15] or ''), 0
if pity_after then
  local s = redis.call('GET', KEYS[11])
  if not s then
    if args[14] == '-' then return {'pity'} end
    s = args[14]
    redis.call('SET', KEYS[11], s, 'EX', tonumber(args[10]))
  end
  streak = tonumber(s)
end
local burst = redis.call('INCR', KEYS[7])
if burst == 1 then redis.call('EXPIRE', KEYS[7], tonumber(meta[10])) end
if burst > tonumber(meta[9]) then
  return {'rate', redis.call('TTL', KEYS[7])}
end
if extra then used = redis.call('INCR', KEYS[10]) end
day = redis.call('INCR', KEYS[4])
redis.call('EXPIRE', KEYS[4], tonumber(args[9]))
tot = redis.call('INCR', KEYS[5])
if tot == 1 then redis.call('HINCRBY', KEYS[8], 'players', 1) end
redis.call('HINCRBY', KEYS[8], 'draws', 1)

local prizes = cjson.decode(meta[7])
-- A prize that ran out turns the draw into a lose; the odds of the others stay as
-- published. So does a coupon the member already holds as many of as its template allows
-- one member.
local function available(p)
  if p.kind == 'nothing' then return false end
  if p.t then
    local lim = redis.call('HGET', KEYS[9], 'l:' .. p.t)
    if lim and tonumber(redis.call('HGET', KEYS[9], 'h:' .. p.t) or '0') >= tonumber(lim) then
      return false
    end
  end
  local q = redis.call('HGET', KEYS[3], p.id)
  return (not q) or tonumber(redis.call('HGET', KEYS[2], p.id) or '0') < tonumber(q)
end
local chosen, pity = nil, false
if pity_after and streak >= pity_after then
  for _, p in ipairs(prizes) do
    if p.id == meta[16] then
      if available(p) then chosen, pity = p, true end
      break
    end
  end
end
if not chosen then
  local r = tonumber(args[2]) % tonumber(meta[8])
  chosen = prizes[#prizes]
  local acc = 0
  for _, p in ipairs(prizes) do
    acc = acc + p.w
    if r < acc then chosen = p; break end
  end
end
local outcome, seq, prize, segment = 'lose', 0, cjson.null, cjson.null
if chosen.kind == 'nothing' then
  segment = chosen.id
elseif pity or available(chosen) then
  if chosen.t then redis.call('HINCRBY', KEYS[9], 'h:' .. chosen.t, 1) end
  seq = redis.call('HINCRBY', KEYS[2], chosen.id, 1)
  outcome = 'win'
  prize = {id = chosen.id, name = chosen.name, kind = chosen.kind}
  segment = chosen.id
end
if pity_after then
  if outcome == 'win' then redis.call('SET', KEYS[11], '0', 'KEEPTTL')
  else redis.call('INCR', KEYS[11]) end
end
local remaining_today, remaining_total = cjson.null, cjson.null
-- Chances left count in both: they are draws beyond either limit.
local chances_left = earned - used
if meta[5] ~= '' then remaining_today = math.max(0, tonumber(meta[5]) - day) + chances_left end
if meta[6] ~= '' then remaining_total = math.max(0, tonumber(meta[6]) - tot) + chances_left end
local body = cjson.encode({id = args[3], campaign_id = args[7], outcome = outcome, prize = prize,
  segment_id = segment, remaining = {today = remaining_today, total = remaining_total},
  extra = extra, pity = pity, fairness = {client_seed = ARGV[2], nonce = ARGV[3]},
  created_at = args[4]})
if args[5] == '1' then
  redis.call('SET', KEYS[6], 'P|' .. args[6] .. '|' .. body, 'EX', tonumber(args[10]))
end
local prize_id = ''
if outcome == 'win' then prize_id = chosen.id end
return {'ok', body, outcome, prize_id, seq, tot, meta[11], extra and '1' or '0',
  pity and '1' or '0'}
