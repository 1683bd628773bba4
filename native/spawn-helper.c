/*
 * sched's spawn helper: starts processes for the spawner with posix_spawn (vfork + exec), which
 * costs a fraction of what Node's fork of a whole V8 process does, and reaps them.
 *
 * Requests on stdin, each a 4-byte little-endian length and that many bytes of NUL-ended fields:
 *   "S" id cwd argc argv... envc env...   start a process: its own session and process group,
 *                                         stdin /dev/null, stdout and stderr to two new pipes
 *   "R" fd fd                             the spawner holds its own copies of these read ends
 * Replies on stdout, one line each:
 *   S id pid outfd errfd                  started; the spawner opens /proc/<helper>/fd/<fd>
 *   F id errno message                    could not start
 *   X pid status                          a process ended (the raw wait status)
 * The helper ends when stdin closes: its processes are the spawner's to kill, not its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

static char inbuf[4 << 20];
static size_t inlen;

static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void reply(const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  for (int off = 0; off < n;) {
    ssize_t w = write(1, line + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) exit(0); /* the spawner is gone */
    off += w;
  }
}

/* Splits a request into its fields; returns how many, or -1 when malformed. */
static int fields(char *body, size_t len, char **out, int max) {
  int n = 0;
  for (size_t i = 0; i < len && n < max;) {
    out[n++] = body + i;
    char *end = memchr(body + i, 0, len - i);
    if (!end) return -1;
    i = end - body + 1;
  }
  return n;
}

static void start(char *body, size_t len) {
  static char *f[65536];
  int n = fields(body, len, f, 65536);
  if (n < 4) return;
  const char *id = f[1], *cwd = f[2];
  int argc = atoi(f[3]);
  if (argc < 1 || 4 + argc >= n) { reply("F %s %d malformed request\n", id, EINVAL); return; }
  char **argv = &f[4];
  int envc = atoi(f[4 + argc]);
  char **envp = &f[5 + argc];
  if (5 + argc + envc > n) { reply("F %s %d malformed request\n", id, EINVAL); return; }
  /* The vectors end where the next field starts: NUL-terminate them in place. */
  char *saved_arg = argv[argc];
  argv[argc] = NULL;
  char *env_copy[envc + 1];
  memcpy(env_copy, envp, envc * sizeof *envp);
  env_copy[envc] = NULL;

  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) < 0) { reply("F %s %d %s\n", id, errno, strerror(errno)); return; }
  if (pipe2(err, O_CLOEXEC) < 0) { int e = errno; close(out[0]); close(out[1]); reply("F %s %d %s\n", id, e, strerror(e)); return; }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  if (cwd[0]) posix_spawn_file_actions_addchdir_np(&fa, cwd);
  posix_spawnattr_t at;
  posix_spawnattr_init(&at);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&at, &none);
  sigset_t all;
  sigfillset(&all);
  posix_spawnattr_setsigdefault(&at, &all);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid;
  int rc = posix_spawn(&pid, argv[0], &fa, &at, argv, env_copy);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  argv[argc] = saved_arg;
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(out[0]);
    close(err[0]);
    reply("F %s %d %s\n", id, rc, strerror(rc));
    return;
  }
  reply("S %s %d %d %d\n", id, (int)pid, out[0], err[0]);
}

static void handle(char *body, size_t len) {
  if (len == 0) return;
  if (body[0] == 'S') start(body, len);
  else if (body[0] == 'R') {
    char *f[3];
    if (fields(body, len, f, 3) == 3) { close(atoi(f[1])); close(atoi(f[2])); }
  }
}

static void reap(void) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) reply("X %d %d\n", (int)pid, status);
}

int main(void) {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) return 1;
  fcntl(0, F_SETFD, FD_CLOEXEC);
  fcntl(1, F_SETFD, FD_CLOEXEC);
  struct pollfd p[2] = {{.fd = 0, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
  for (;;) {
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (p[1].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == sizeof si) {}
      reap();
    }
    if (p[0].revents) {
      ssize_t r = read(0, inbuf + inlen, sizeof inbuf - inlen);
      if (r == 0) return 0;
      if (r < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return 0;
      }
      inlen += r;
      size_t off = 0;
      while (inlen - off >= 4) {
        uint32_t len;
        memcpy(&len, inbuf + off, 4);
        if (len > sizeof inbuf - 4) return 1;
        if (inlen - off - 4 < len) break;
        handle(inbuf + off + 4, len);
        off += 4 + len;
      }
      memmove(inbuf, inbuf + off, inlen - off);
      inlen -= off;
    }
  }
}
