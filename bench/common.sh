# Sourced by the HTTP benchmarks. `bench_scratch PREFIX` makes the scratch directory WORK and
# the array PIDS, both cleaned up on exit; `start_nginx [WORKERS]` then runs nginx answering
# `return 200` on a free loopback port (the HTTP ceiling of this machine) with WORKERS worker
# processes (one per core by default), sets NGINX_PORT and NGINX_PID, and returns once nginx
# answers; several can run side by side; `post_lua` writes a static wrk script for one POST;
# `unique_post_lua` one whose every request carries a fresh name; `wrk_stats` reads wrk's report;
# `to_ms` reads wrk's times.
# shellcheck shell=bash

bench_cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}

bench_scratch() {
  WORK=$(mktemp -d "/tmp/$1.XXXXXX")
  PIDS=()
  trap bench_cleanup EXIT
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

start_nginx() {
  NGINX_PORT=$(free_port)
  local dir="$WORK/nginx-$NGINX_PORT"
  mkdir -p "$dir/logs"
  cat > "$dir/nginx.conf" <<CONF
worker_processes ${1:-$(nproc)};
pid $dir/nginx.pid;
error_log $dir/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server { listen 127.0.0.1:$NGINX_PORT; location / { return 200 "ok"; } }
}
CONF
  nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' &
  NGINX_PID=$!
  PIDS+=("$NGINX_PID")
  until curl -sf "http://127.0.0.1:$NGINX_PORT/" >/dev/null; do sleep 0.01; done
}

# post_lua FILE CONTENT_TYPE BODY BEARER: a wrk script that POSTs one fixed request to the URL
# wrk is given. Static (no Lua `request` function): wrk renders it once, as it does the GETs, so
# the load generator's own per-request work is the same kind in every run. An empty BEARER sends
# no Authorization header.
post_lua() {
  local auth=nil
  [ -n "$4" ] && auth="\"Bearer $4\""
  cat > "$1" <<LUA
wrk.method = "POST"
wrk.body = '$3'
wrk.headers["Content-Type"] = "$2"
wrk.headers["Authorization"] = $auth
LUA
}

# unique_post_lua FILE PATH CONTENT_TYPE BODY: a wrk script that POSTs BODY to PATH with every
# `%s` in BODY replaced by a name no other request of the run uses (thread, random, counter),
# so each request creates something new (a tenant's slug, a made-up username). The
# Authorization header given to wrk with -H goes along.
unique_post_lua() {
  cat > "$1" <<LUA
local counter = 0
local id = 0
function setup(thread) id = id + 1; thread:set("tid", id) end
function init(args) math.randomseed(os.time() + tid * 7919) end
request = function()
  counter = counter + 1
  local name = string.format("b%d-%d-%d", tid, math.random(1, 1000000000), counter)
  return wrk.format("POST", "$2", {["Content-Type"] = "$3", ["Authorization"] = wrk.headers["Authorization"]},
                    (string.gsub('$4', "%%s", name)))
end
LUA
}

# wrk_stats: reads wrk's --latency report on stdin, prints "rps p50_ms p99_ms non2xx".
wrk_stats() {
  local out; out=$(cat)
  local rps p50 p99 bad
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  bad=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  echo "$rps $(to_ms "$p50") $(to_ms "$p99") ${bad:-0}"
}

# to_ms TIME: wrk's 1.23ms, 812.00us or 1.02s in milliseconds.
to_ms() {
  python3 -c "import sys,re; v=sys.argv[1]; n=float(re.match(r'[0-9.]+',v).group()); u=v[len(re.match(r'[0-9.]+',v).group()):]; print(round(n*{'us':0.001,'ms':1,'s':1000}[u],3))" "$1"
}
