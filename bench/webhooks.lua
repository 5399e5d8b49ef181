-- wrk script for `./run bench --only http` (bench/http.py): each thread POSTs its own signed, distinct webhook
-- bodies, cycling through the file bench/http.py wrote for it (`<path>.<thread>`, one "signature TAB body" per
-- line), and `done` prints the figures as one JSON line.
--
--   wrk -t2 -c32 -d10s -s bench/webhooks.lua http://127.0.0.1:PORT/webhooks/ashby -- /tmp/bodies

local threads = 0

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  -- Formatted once here, not per request: the load generator's CPU goes to sending, not to Lua.
  bodies = {}
  for line in io.lines(args[1] .. "." .. id) do
    local tab = line:find("\t", 1, true)
    bodies[#bodies + 1] = wrk.format(
      "POST",
      "/webhooks/ashby",
      { ["Content-Type"] = "application/json", ["Ashby-Signature"] = line:sub(1, tab - 1) },
      line:sub(tab + 1)
    )
  end
  next_body = 0
  -- Process CPU so far (this runs on wrk's main thread, thread after thread): bench/http.py takes the last
  -- one off wrk's total, leaving the CPU spent on sending and reading.
  io.stderr:write(string.format("loaded %.6f\n", os.clock()))
end

function request()
  next_body = next_body % #bodies + 1
  return bodies[next_body]
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"non_2xx_3xx":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,'
      .. '"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, errors.status, errors.connect, errors.read, errors.write, errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max
  ))
end
