-- wrk script for bench/run: rotates through one request per customer, each with its own
-- Authorization header, and prints one machine-readable RESULT line at the end.
--
-- BENCH_FIXTURE names a file of "token order_id" lines (written by bench-driver warm);
-- BENCH_PATH is the path, with {order} replaced by each line's order id.

local prepared = {}
local next_index = 0

function init(args)
  local fixture = os.getenv("BENCH_FIXTURE")
  local template = os.getenv("BENCH_PATH")
  for line in io.lines(fixture) do
    local token, order = line:match("^(%S+)%s+(%d+)$")
    if token then
      local path = template:gsub("{order}", order)
      prepared[#prepared + 1] = wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
    end
  end
  -- Threads start at different customers so they do not move in lockstep.
  next_index = math.random(#prepared) - 1
end

function request()
  next_index = next_index % #prepared + 1
  return prepared[next_index]
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d errors=%d non2xx=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, errors.connect + errors.read + errors.write + errors.timeout, errors.status))
end
