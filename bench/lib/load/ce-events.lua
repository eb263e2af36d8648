-- wrk script for the collector: KServe's events with unique ids, one exchange's two halves in turn.
--   wrk -t1 -c32 -d10s -s ce-events.lua http://127.0.0.1:PORT/ -- single PREFIX
--   wrk … -- batch PREFIX 100 [MODEL]   (application/cloudevents-batch+json, 100 events per POST)
-- The (one) wrk thread numbers its exchanges, so no id repeats within a run
-- (PREFIX is per run). MODEL (default "bench") is the inference-service name, so a run's
-- exchanges can be counted apart. Event times are the run's start (UTC), so the exchanges land
-- in "the last hour" like live traffic. Prints one BENCH_JSON line like post.lua.
local counter = 0
local mode, prefix, batch, model = "single", "x", 100, "bench"
local now = os.date("!%Y-%m-%dT%H:%M:%SZ")

function init(args)
  mode = args[1] or "single"
  prefix = (args[2] or "x") .. "-" .. tostring(math.random(1, 1e9))
  batch = tonumber(args[3] or "100")
  model = args[4] or "bench"
end

local body = '{"instances":[[6.8,2.8,4.8,1.4]]}'
local answer = '{"predictions":[1]}'

local function event(id, half, data)
  return '{"specversion":"1.0","id":"' .. id .. '","type":"org.kubeflow.serving.inference.' .. half ..
    '","source":"http://localhost:9081/","time":"' .. now .. '","datacontenttype":"application/json",' ..
    '"inferenceservicename":"' .. model .. '","namespace":"ns","component":"predictor","endpoint":"","data":' .. data .. '}'
end

function request()
  counter = counter + 1
  if mode == "single" then
    -- Two POSTs per exchange, as KServe's agent sends: the request half, then the response half.
    local n = math.floor((counter + 1) / 2)
    local half = (counter % 2 == 1) and "request" or "response"
    return wrk.format("POST", "/", {
      ["Content-Type"] = "application/json",
      ["Ce-Specversion"] = "1.0",
      ["Ce-Id"] = prefix .. "-" .. n,
      ["Ce-Type"] = "org.kubeflow.serving.inference." .. half,
      ["Ce-Source"] = "http://localhost:9081/",
      ["Ce-Time"] = now,
      ["Ce-Inferenceservicename"] = model,
      ["Ce-Namespace"] = "ns",
      ["Ce-Component"] = "predictor",
      ["Ce-Endpoint"] = "",
    }, half == "request" and body or answer)
  end
  local parts = {}
  for i = 1, batch / 2 do
    local id = prefix .. "-" .. counter .. "-" .. i
    parts[#parts + 1] = event(id, "request", body)
    parts[#parts + 1] = event(id, "response", answer)
  end
  return wrk.format("POST", "/", { ["Content-Type"] = "application/cloudevents-batch+json" },
    "[" .. table.concat(parts, ",") .. "]")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"durationUs":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latencyUs":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
