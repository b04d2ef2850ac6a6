-- wrk script for bench/load_bench.py: cast ballots as many different signed-in voters.
--
-- Arguments (after `--`): FILE THREADS OFFSET ORIGIN
--   FILE    one prepared request per line: PATH <tab> COOKIE <tab> FORM BODY
--   THREADS wrk's -t, so that each thread takes its own voters (line i goes to thread i % THREADS)
--   OFFSET  where each thread starts in its share, so that a later run reaches new voters
--   ORIGIN  sent as the Origin header, as a browser does on a form POST
-- Each thread cycles through its share; lines that repeat a voter re-cast (replace) a ballot.

local counter = 0

function setup(thread)
  thread:set("thread_index", counter)
  counter = counter + 1
end

local requests = {}
local position = 0

function init(args)
  local path, threads, offset, origin = args[1], tonumber(args[2]), tonumber(args[3]), args[4]
  local line_number = 0
  for line in io.lines(path) do
    if line_number % threads == thread_index then
      local target, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      requests[#requests + 1] = wrk.format("POST", target, {
        ["Cookie"] = cookie,
        ["Origin"] = origin,
        ["Content-Type"] = "application/x-www-form-urlencoded",
      }, body)
    end
    line_number = line_number + 1
  end
  position = offset % #requests
end

function request()
  position = position + 1
  if position > #requests then
    position = 1
  end
  return requests[position]
end
