/**
 * The config `sched init` writes: the daemon table, one task and one service, each key that a
 * newcomer is likely to want next shown commented out. Every key is in sched.toml(5).
 */
export const STARTER_CONFIG = `# sched.toml, written by sched init. Every key is described in sched.toml(5):
#   man sched.toml   (or man -l man/sched.toml.5 in a checkout)
# Check it with "sched validate", run it with "sched serve", list it with "sched list".

[daemon]
# host = "127.0.0.1"         # where the HTTP API listens
# port = 9477                # 0 picks a free port
# shutdown_timeout = "10s"   # how long SIGTERM waits for runs to stop
# state_dir = "state"        # run records and logs, relative to this file
#                            # (default ~/.local/state/sched, /var/lib/sched as root)
# max_storage = "1gb"        # cap on run records and logs kept

# [scheduler]
# timezone = "Europe/Bratislava"   # zone of cron schedules (default: the host's)

# [defaults]                 # any key marked "inh" in sched.toml(5), for every unit
# keep_for = "30d"

# A task runs to its end: on its cron schedule, at start-up, or when triggered
# (sched trigger hello). Its runs and output: sched runs hello, sched logs hello.
[tasks.hello]
description = "Say hello every five minutes"
run = "echo hello from sched"
cron = "*/5 * * * *"
# timezone = "UTC"
# timeout = "1m"             # a run still going after this ends "timeout"
# retry_attempts = 2         # extra attempts after a failure
# on_overlap = "skip"        # queue (default), skip or terminate

# A service is kept running: sched starts it at boot and again when it exits.
# Replace run with your server, e.g. run = "exec node server.js".
[services.ticker]
description = "A stand-in for a server: prints the time every ten seconds"
run = "while true; do date; sleep 10; done"
# instances = 2              # processes at once, SCHED_INSTANCE=0..N-1
# restart = "on_failure"     # always (default), on_failure or never
# working_dir = "/srv/app"
# env = { PORT = "8080" }
`
