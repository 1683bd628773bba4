#!/usr/bin/env bash
# Runs a command beside a throw-away PostgreSQL, for the cluster tests:
#
#   scripts/test-postgres.sh npm test
#   scripts/test-postgres.sh npx vitest run test/cluster
#   scripts/test-postgres.sh            # a shell with the server, until you exit it
#
# The server lives in a temp directory, listens on a free loopback port with a random password,
# and is stopped and deleted when the command ends (or on Ctrl-C). The command gets its URL in
# SCHED_TEST_PG_URL; tests create a database of their own on it. With SCHED_TEST_PG_URL already
# set, the command just runs against that server. When PostgreSQL is not installed and we are
# root (CI), Debian's package is installed first.
set -euo pipefail

if [[ -n "${SCHED_TEST_PG_URL:-}" ]]; then
  if (($#)); then exec "$@"; else exec "${SHELL:-bash}"; fi
fi

pg_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [[ -n "$dir" && -x "$dir/initdb" ]]; then echo "$dir"; return; fi
  if command -v initdb >/dev/null; then dirname "$(command -v initdb)"; fi
}

bindir=$(pg_bindir)
if [[ -z "$bindir" ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "test-postgres: PostgreSQL is not installed (no initdb); install Debian's postgresql package" >&2
    exit 1
  fi
  echo "test-postgres: installing Debian's postgresql package" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  bindir=$(pg_bindir)
  [[ -n "$bindir" ]] || { echo "test-postgres: postgresql installed but initdb not found" >&2; exit 1; }
fi

# PostgreSQL refuses to run as root: as root, the server runs as the postgres user.
as_owner=()
if [[ $(id -u) -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  as_owner=(runuser -u postgres --)
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/sched-test-pg.XXXXXX")
chmod 700 "$dir"
[[ ${#as_owner[@]} -eq 0 ]] || chown postgres: "$dir"

cleanup() {
  local code=$?
  trap - EXIT INT TERM
  if [[ -f "$dir/data/postmaster.pid" ]]; then
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

password=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
printf '%s\n' "$password" >"$dir/pwfile"
[[ ${#as_owner[@]} -eq 0 ]] || chown postgres: "$dir/pwfile"
"${as_owner[@]}" "$bindir/initdb" -D "$dir/data" -U sched --pwfile="$dir/pwfile" \
  --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
rm -f "$dir/pwfile"

# A free loopback port; another process may take it before the server does, so try a few.
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
started=
for _ in 1 2 3 4 5; do
  port=$(free_port)
  # Durability settings are off: this server's data is thrown away with the directory.
  if "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start -o \
    "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null; then
    started=1
    break
  fi
done
[[ -n "$started" ]] || { echo "test-postgres: the server did not start:" >&2; cat "$dir/server.log" >&2; exit 1; }

export SCHED_TEST_PG_URL="postgres://sched:$password@127.0.0.1:$port/postgres"
echo "test-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (SCHED_TEST_PG_URL is set for the command)" >&2
if (($#)); then "$@"; else "${SHELL:-bash}"; fi
