-- wrk: POST envelopes of 100 new indicators (unique ids per request).
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.headers["Accept"] = "application/taxii+json;version=2.1"
wrk.headers["Content-Type"] = "application/taxii+json;version=2.1"
local counter = 0
local tid = 0

function setup(thread)
  tid = tid + 1
  thread:set("tid", tid)
end

local run = os.time() % 4294967296

local function uuid4(n)
  -- unique per (run, thread, request index), shaped like a v4 uuid
  return string.format("%08x-%04x-4000-8000-0000%08x", run, tid or 0, n)
end

function request()
  local parts = {}
  for i = 1, 100 do
    counter = counter + 1
    parts[i] = string.format(
      '{"type":"indicator","spec_version":"2.1","id":"indicator--%s",' ..
      '"created":"2026-02-01T00:00:00.000Z","modified":"2026-02-01T00:00:00.000Z",' ..
      '"name":"wrk %d","pattern":"[ipv4-addr:value = \'192.0.2.%d\']",' ..
      '"pattern_type":"stix","valid_from":"2026-02-01T00:00:00Z"}',
      uuid4(counter), counter, counter % 256)
  end
  return wrk.format(nil, nil, nil, '{"objects":[' .. table.concat(parts, ",") .. ']}')
end

function response(status, headers, body)
  if status ~= 202 or not string.find(body, '"failure_count":0', 1, true) then
    io.stderr:write("unexpected POST answer " .. status .. " " .. string.sub(body, 1, 300) .. "\n")
  end
end
