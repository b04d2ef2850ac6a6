-- wrk script for bench/load_bench.py: POST the same urlencoded form on every request
-- (the bare baseline's form endpoint). Argument (after `--`): the form body.

function init(args)
  wrk.method = "POST"
  wrk.body = args[1]
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
