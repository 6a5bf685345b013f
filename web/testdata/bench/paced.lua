-- paced.lua: walk.lua with a think time between a connection's answer and
-- its next request, as a map user pauses between views; scale.sh uses it
-- to measure readers' latency below saturation:
--
--   wrk -t2 -c32 -d10s -s paced.lua http://127.0.0.1:18190 -- LIST 2 THINK_MS
--
-- Each pause is drawn from an exponential distribution of mean THINK_MS
-- (wrk waits whole milliseconds, so about half a millisecond less), so
-- that the connections' requests do not fall into step. It is a script of
-- its own, not an option of walk.lua: a script with delay() makes wrk set a
-- timer for every request, and walk.lua's runs cost the client what they
-- always did.

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "walk.lua")

local walk_init = init
local think = 0

function init(args)
  walk_init(args)
  think = tonumber(args[3] or "0")
  math.randomseed(os.time() + tid)
end

function delay()
  if think <= 0 then
    return 0
  end
  return -think * math.log(1 - math.random())
end
