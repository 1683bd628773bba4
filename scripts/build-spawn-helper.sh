#!/bin/sh
# Builds dist/spawn-helper (native/spawn-helper.c), the spawner's fast way to start processes.
# Without a C compiler sched still works: the spawner starts processes with Node's spawn, about
# half as many per second (README, Dependencies).
set -u
cc=${CC:-cc}
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "sched build: no C compiler ($cc); processes will start through Node's spawn" >&2
  rm -f dist/spawn-helper
  exit 0
fi
"$cc" -O2 -Wall -Wextra -Werror -o dist/spawn-helper native/spawn-helper.c
