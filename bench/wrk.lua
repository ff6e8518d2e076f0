-- wrk script for the lambdad/moto benchmark.
-- usage: wrk ... -s bench/wrk.lua URL -- MODE PREFIX COUNT AUTH
--   MODE get:  GET /2015-03-31/functions/PREFIX-<n>, n cycling over 0..COUNT-1
--              (each thread starts at a different offset)
--   MODE list: GET /2015-03-31/functions (fixed path)
--   MODE path: GET PREFIX, a fixed path (GetPolicy: /2015-03-31/functions/NAME/policy,
--              ListLayerVersions: /2018-10-31/layers/NAME/versions); COUNT unused
-- AUTH, when non-empty, is sent as a static Authorization header; moto uses only
-- its credential scope to route the request to Lambda and checks no signature.
-- AMZDATE (optional 5th argument) is sent as X-Amz-Date: with AUTH a real
-- signature of one fixed request (mode path), replayable within the 15-minute
-- clock-skew window, for lambdad's --auth enforce.
-- done() prints one JSON line that bench.py parses.

local mode, prefix, count, auth, amzdate
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
   thread:set("thread_id", #threads)
   table.insert(threads, thread)
end

function init(args)
   mode = args[1] or "get"
   prefix = args[2] or "bench"
   count = tonumber(args[3] or "1000")
   auth = args[4]
   amzdate = args[5]
   if auth ~= nil and auth ~= "" then
      wrk.headers["Authorization"] = auth
   end
   if amzdate ~= nil and amzdate ~= "" then
      wrk.headers["X-Amz-Date"] = amzdate
   end
   counter = (thread_id * 397) % count
   if mode == "list" then
      fixed = wrk.format("GET", "/2015-03-31/functions")
   elseif mode == "path" then
      fixed = wrk.format("GET", prefix)
   end
end

function request()
   if fixed then
      return fixed
   end
   local name = string.format("%s-%04d", prefix, counter)
   counter = (counter + 1) % count
   return wrk.format("GET", "/2015-03-31/functions/" .. name)
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      '{"requests":%d,"duration_us":%d,"bytes":%d,"rps":%.1f,' ..
      '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,' ..
      '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d}\n',
      summary.requests, summary.duration, summary.bytes,
      summary.requests / (summary.duration / 1e6),
      latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency.max / 1000,
      e.connect, e.read, e.write, e.status, e.timeout))
end
