-- wrk script: each request picks one path at random from the file named by WRK_PATHS
-- (one path per line) and sends the X-API-Key header from WRK_API_KEY.
local paths = {}
local file = io.open(os.getenv("WRK_PATHS"), "r")
for line in file:lines() do paths[#paths + 1] = line end
file:close()
local api_key = os.getenv("WRK_API_KEY")

init = function(args)
  math.randomseed(os.time() + math.floor(os.clock() * 100000))
end

request = function()
  local path = paths[math.random(#paths)]
  return wrk.format("GET", path, {["X-API-Key"] = api_key})
end
