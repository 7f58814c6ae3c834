# bench/pg/lib.sh: what run.sh, reads.sh and seed.sh share (sourced, not run).
#
# A PostgreSQL 15 cluster from Debian's packages in a directory of its own
# (initdb as user nobody when run as root, 127.0.0.1 only, the durable
# defaults fsync = on and synchronous_commit = on; PG_OPTS adds server
# options), and the CPU seconds of
# processes and of the cluster.

pgbin=/usr/lib/postgresql/15/bin
hz=$(getconf CLK_TCK)
as_owner=()
[ "$(id -u)" = 0 ] && as_owner=(runuser -u nobody --)

# pg_start DIR: initdb DIR/data when it is not there yet, start it on a
# free port; sets pg_dir, port and pm (the postmaster's pid).
pg_start() {
  pg_dir=$1
  mkdir -p "$pg_dir"
  [ "$(id -u)" = 0 ] && chown nobody "$pg_dir"
  if [ ! -d "$pg_dir/data" ]; then
    (cd "$pg_dir" && "${as_owner[@]}" "$pgbin/initdb" -D "$pg_dir/data" -U meridian -A trust \
      -E UTF8 --locale C.UTF-8 >/dev/null)
  fi
  port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  (cd "$pg_dir" && "${as_owner[@]}" "$pgbin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w -t 300 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $pg_dir -c max_connections=200 \
        -c shared_buffers=1GB -c max_wal_size=8GB ${PG_OPTS:-}" start >/dev/null)
  pm=$(head -1 "$pg_dir/data/postmaster.pid")
}

# pg_stop: stop the cluster pg_start started (its files stay).
pg_stop() {
  [ -n "${pg_dir:-}" ] || return 0
  (cd "$pg_dir" && "${as_owner[@]}" "$pgbin/pg_ctl" -D "$pg_dir/data" -m fast -w -t 120 stop \
    >/dev/null 2>&1) || true
}

psql_() { # SQL [DATABASE]
  psql -X -A -t -h 127.0.0.1 -p "$port" -U meridian -d "${2:-postgres}" -c "$1"
}

cpu_ticks() { # utime + stime of a process and of its reaped children, in ticks
  awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat" 2>/dev/null || echo 0
}

pg_ticks() { # the postmaster, its reaped children and its live ones (0 without pm)
  local t=0 c
  [ -n "${pm:-}" ] || { echo 0; return; }
  t=$(cpu_ticks "$pm")
  for c in $(ps -o pid= --ppid "$pm"); do t=$((t + $(cpu_ticks "$c"))); done
  echo "$t"
}

mer_ticks() { # pids...
  local t=0 p
  for p in "$@"; do t=$((t + $(cpu_ticks "$p"))); done
  echo "$t"
}

secs_of() { awk -v t="$1" -v hz="$hz" 'BEGIN { printf "%.1f", t / hz }'; }
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }
