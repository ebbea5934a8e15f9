-- Shared by the wrk scripts: per-thread counters and the report line bench/http/wrk.ts reads,
-- `wrk-result <json>`, printed by done() once the run ends.

-- Global: done() reads each thread's copy with thread:get().
counters = { ok = 0, handshakes = 0, refused = 0, other = 0 }

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency)
  local sum = { ok = 0, handshakes = 0, refused = 0, other = 0 }
  for _, thread in ipairs(threads) do
    local c = thread:get('counters')
    for k in pairs(sum) do sum[k] = sum[k] + (c and c[k] or 0) end
  end
  local e = summary.errors
  io.write(string.format(
    'wrk-result {"durationMicros":%d,"requests":%d,"errorStatuses":%d,"connectErrors":%d,' ..
    '"readErrors":%d,"writeErrors":%d,"timeouts":%d,"p50Micros":%d,"p99Micros":%d,' ..
    '"meanMicros":%.1f,"ok":%d,"handshakes":%d,"refused":%d,"other":%d}\n',
    summary.duration, summary.requests, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean,
    sum.ok, sum.handshakes, sum.refused, sum.other))
end
