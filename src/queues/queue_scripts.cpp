#include "redis_push/queues/queue_scripts.hpp"

namespace rpd::queues::scripts {

// LREM removes one copy of the message: with equal messages in flight,
// which copy goes does not matter, as each delivery removes one.

const std::string_view take = R"lua(
local out = {}
local now
for i = 3, #ARGV do
  local id = ARGV[i]
  local m
  if id == '' then
    m = redis.call('LPOP', KEYS[1])
  else
    m = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
    if m then
      if not now then
        local t = redis.call('TIME')
        now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      end
      redis.call('HSET', KEYS[3], id, m)
      redis.call('ZADD', KEYS[4], now + tonumber(ARGV[1]), id)
      redis.call('SADD', KEYS[5], ARGV[2])
    end
  end
  if not m then break end
  out[#out + 1] = m
end
return out
)lua";

const std::string_view ack = R"lua(
local m = redis.call('HGET', KEYS[2], ARGV[1])
if not m then return 0 end
redis.call('LREM', KEYS[1], 1, m)
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
)lua";

const std::string_view put_back = R"lua(
local n = 0
for i = #ARGV, 1, -1 do
  local m = redis.call('HGET', KEYS[3], ARGV[i])
  if m then
    redis.call('LREM', KEYS[2], -1, m)
    redis.call('LPUSH', KEYS[1], m)
    redis.call('HDEL', KEYS[3], ARGV[i])
    redis.call('ZREM', KEYS[4], ARGV[i])
    n = n + 1
  end
end
return n
)lua";

const std::string_view put_back_expired = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ids = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local n = 0
for i = #ids, 1, -1 do
  local m = redis.call('HGET', KEYS[3], ids[i])
  if m then
    redis.call('LREM', KEYS[2], 1, m)
    redis.call('LPUSH', KEYS[1], m)
    n = n + 1
  end
  redis.call('HDEL', KEYS[3], ids[i])
  redis.call('ZREM', KEYS[4], ids[i])
end
if redis.call('ZCARD', KEYS[4]) == 0 then redis.call('SREM', KEYS[5], ARGV[1]) end
return n
)lua";

} // namespace rpd::queues::scripts
