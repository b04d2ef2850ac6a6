-- wrk script for bench/load_bench.py's "paced" scenario: the voters of ballots.lua, each
-- connection waiting a random pause before each cast (exponential, so arrivals are nearly a
-- Poisson stream), so that the casts come at a chosen rate well below what the server can
-- take. Latency then shows what one voter waits at that load, not the queue of a saturated
-- server (wrk alone is closed-loop: at saturation its latency is connections / throughput).
--
-- Arguments (after `--`): those of ballots.lua, then PAUSE, the mean pause in milliseconds.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "ballots.lua")

local ballots_init = init
local mean_pause = 0

function init(args)
  ballots_init(args)
  mean_pause = tonumber(args[5])
  math.randomseed(os.time() + thread_index)
end

-- At most 4 s: uvicorn closes a connection idle for 5 s (its keep-alive timeout), and wrk
-- would count the close as a read error.
function delay()
  return math.min(math.floor(-math.log(1 - math.random()) * mean_pause), 4000)
end
