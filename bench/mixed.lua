-- wrk: a person's mix of requests for `make soak`. Paced by SOAK_DELAY_MS (per connection).
-- 40% list, 20% get one, 15% create, 15% set completion, 10% rename; tasks 1..50 are seeded.
local user = os.getenv("SOAK_USER")
local delay_ms = tonumber(os.getenv("SOAK_DELAY_MS") or "0")
local first_id = tonumber(os.getenv("SOAK_FIRST_ID") or "1")
local counter = 0
local json

-- wrk.format replaces wrk.headers (Authorization, Host) when given headers: copy them in.
init = function()
  json = { ["Content-Type"] = "application/json" }
  for name, value in pairs(wrk.headers) do json[name] = value end
end

math.randomseed(os.time())

request = function()
  counter = counter + 1
  local roll = math.random(100)
  local id = first_id + math.random(50) - 1
  local tasks = "/api/" .. user .. "/tasks"
  if roll <= 40 then
    return wrk.format("GET", tasks .. "?limit=50")
  elseif roll <= 60 then
    return wrk.format("GET", tasks .. "/" .. id)
  elseif roll <= 75 then
    return wrk.format("POST", tasks, json, '{"title": "soak ' .. counter .. '"}')
  elseif roll <= 90 then
    local done = math.random(2) == 1 and "true" or "false"
    return wrk.format("PATCH", tasks .. "/" .. id .. "/complete", json, '{"completed": ' .. done .. '}')
  end
  return wrk.format("PATCH", tasks .. "/" .. id, json, '{"title": "renamed ' .. counter .. '"}')
end

delay = function()
  return delay_ms
end
