-- walk.lua: the wrk script of scale.sh. It walks a list of request paths,
-- one a line ("PATH" or "PATH<TAB>expected features"; only PATH is used):
--
--   wrk -t2 -c32 -d10s -s walk.lua http://127.0.0.1:18190 -- LIST
--
-- Thread i of T takes lines i, i+T, i+2T, … so that no two threads ask the
-- same path, and formats all its requests in init(): request() only hands
-- out the next one, so the client's cost per request is the same for every
-- server and every list. A thread that reaches the end of its share starts
-- again and counts a wrap: with a list long enough for the run, every
-- request is asked once ("from file"); a short list asked over and over is
-- the "from cache" walk.
--
-- done() prints one line for scale.sh:
--   WALK requests=N errors=E non2xx=S wraps=W p50_us=… p90_us=… p99_us=… max_us=…
-- where errors counts connect, read, write and timeout errors, non2xx the
-- answers with a status other than 2xx or 3xx, and wraps the most times
-- any thread started its share again.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  local file = args[1]
  if file == nil then
    error("usage: wrk … -s walk.lua URL -- LIST")
  end
  -- setup() ran for every thread before any init(); wrk.thread is not
  -- available here, so the thread count comes from the command line's -t
  -- through the second argument (default 2).
  local nthreads = tonumber(args[2] or "2")
  reqs = {}
  local total = 0
  for line in io.lines(file) do
    local path = line:match("^([^\t\r\n]+)")
    if path ~= nil then
      if total % nthreads == tid - 1 then
        reqs[#reqs + 1] = wrk.format("GET", path)
      end
      total = total + 1
    end
  end
  if total == 0 then
    error("walk.lua: no request in " .. file)
  end
  -- A list shorter than the threads: each thread asks one of its lines.
  if #reqs == 0 then
    local want, i = (tid - 1) % total, 0
    for line in io.lines(file) do
      local path = line:match("^([^\t\r\n]+)")
      if path ~= nil then
        if i == want then
          reqs[1] = wrk.format("GET", path)
        end
        i = i + 1
      end
    end
  end
  idx = 1
  wraps = 0
end

function request()
  local r = reqs[idx]
  idx = idx + 1
  if idx > #reqs then
    idx = 1
    wraps = wraps + 1
  end
  return r
end

function done(summary, latency, requests)
  local w = 0
  for _, t in ipairs(threads) do
    local tw = t:get("wraps") or 0
    if tw > w then w = tw end
  end
  local e = summary.errors
  io.write(string.format(
    "WALK requests=%d errors=%d non2xx=%d wraps=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    summary.requests, e.connect + e.read + e.write + e.timeout, e.status, w,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
