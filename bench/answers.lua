-- wrk script for bench/answers.sh: each request posts an answer through the next personal
-- link of $LINKS (one path per line), or to the parse-only yardstick when $CEILING is set.
local paths = {}
for line in io.lines(os.getenv("LINKS")) do paths[#paths + 1] = line end
local ceiling = os.getenv("CEILING") ~= nil
local threads = 0

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

local counter = 0
function init(args)
  -- Threads start far apart in the list, so that they post through different links.
  counter = id * 7919
end

function request()
  counter = counter + 1
  local path = ceiling and "/bench/ceiling" or paths[(counter % #paths) + 1]
  local body = "ltr=" .. (counter % 11) .. "&product=4&delivery=5&support=3&value=4&buying_role=decide"
    .. "&contact_channels=online&comment=Quicker+quotes+would+help+us+plan&action=submit"
  return wrk.format("POST", path, { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
end
