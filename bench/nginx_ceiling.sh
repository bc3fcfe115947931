# Sourced by the HTTP benchmarks: nginx answering `return 200` on a free loopback port, the
# HTTP ceiling of this machine. Needs WORK (a scratch directory) and PIDS (an array the caller
# kills on exit); sets NGINX_PORT and NGINX_PID and returns once nginx answers.
# shellcheck shell=bash

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

start_nginx() {
  NGINX_PORT=$(free_port)
  mkdir -p "$WORK/nginx/logs"
  cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes $(nproc);
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server { listen 127.0.0.1:$NGINX_PORT; location / { return 200 "ok"; } }
}
CONF
  nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
  NGINX_PID=$!
  PIDS+=("$NGINX_PID")
  until curl -sf "http://127.0.0.1:$NGINX_PORT/" >/dev/null; do sleep 0.01; done
}
