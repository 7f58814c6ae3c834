-- wrk: GET .../objects/{id}/ for ids picked at random from IDS_FILE.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.headers["Accept"] = "application/taxii+json;version=2.1"
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do
  if #line > 0 then ids[#ids + 1] = line end
end
local base = os.getenv("BASE")  -- /api/collections/ID/objects/

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed or 1)
end

function request()
  local id = ids[math.random(1, #ids)]
  return wrk.format("GET", base .. id .. "/")
end

function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. "\n")
  end
end
