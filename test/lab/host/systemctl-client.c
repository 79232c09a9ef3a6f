/* /usr/bin/systemctl in lab hosts: a thin client of the lab's systemd manager, as the real
 * systemctl is a thin client of PID 1.
 *
 * Why: the lab systemctl is Python, and a Python start costs a host 30-60 ms of CPU per call
 * (the real systemctl: a few ms); the facts script, every check and every service supervisor
 * call it. The manager (`systemctl-py --lab-manager`, started by the first root call) has the
 * module loaded, answers root's queries itself and forks a child for any other call, which runs
 * exactly the code a direct call would run.
 *
 * Protocol (one connection per call, on $LAB_SYSTEMCTL_ROOT/run/lab-systemd/manager.sock):
 * the client sends its stdin, stdout and stderr as SCM_RIGHTS with the first byte, then
 * "umask\0cwd\0argc\0argv...\0env...\0" and shuts its side down; the child answers "PID\n"
 * (the client forwards SIGINT, SIGTERM and SIGHUP to it; 0 for a query the manager answers
 * itself: nothing to forward to) and, when done, "EXIT_CODE\n". The child
 * takes the caller's uid, gid and groups (SO_PEERCRED), umask, cwd and environment.
 *
 * When no manager answers (none started yet, idle-exited, or died), a root client starts one in
 * the background and runs the Python program itself for this call (LAB_SYSTEMCTL_PYTHON,
 * default /usr/lib/lab/systemctl-py): slower, same result.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static volatile pid_t child = 0;

static void forward(int sig) {
  if (child > 0) kill(child, sig);
}

static const char *python(void) {
  const char *py = getenv("LAB_SYSTEMCTL_PYTHON");
  return py && *py ? py : "/usr/lib/lab/systemctl-py";
}

/* Starts the manager in the background (root only: it serves every user), detached from the
 * caller: its own session, reparented to the host's init, output to its log. */
static void spawn_manager(const char *root) {
  if (geteuid() != 0) return;
  pid_t p = fork();
  if (p != 0) {
    if (p > 0) waitpid(p, NULL, 0);
    return;
  }
  setsid();
  if (fork() != 0) _exit(0);
  char log[4096];
  snprintf(log, sizeof log, "%s/var/log/lab-systemd/manager.log", root ? root : "");
  int in = open("/dev/null", O_RDONLY), out = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (out < 0) out = open("/dev/null", O_WRONLY);
  dup2(in, 0);
  dup2(out, 1);
  dup2(out, 2);
  for (int fd = 3; fd < 1024; fd++) close(fd);
  if (chdir("/") != 0) _exit(1);
  execl(python(), python(), "--lab-manager", (char *)NULL);
  _exit(127);
}

static void fallback(char **argv) {
  const char *py = python();
  execv(py, argv);
  fprintf(stderr, "systemctl: cannot run %s: %s\n", py, strerror(errno));
  exit(1);
}

/* A growing buffer for the request. */
static char *buf;
static size_t len, cap;
static void put(const char *s, size_t n) {
  if (len + n > cap) {
    cap = (len + n) * 2 + 4096;
    buf = realloc(buf, cap);
    if (!buf) { fputs("systemctl: out of memory\n", stderr); exit(1); }
  }
  memcpy(buf + len, s, n);
  len += n;
}
static void puts0(const char *s) { put(s, strlen(s) + 1); }

int main(int argc, char **argv) {
  /* A closed stdin/stdout/stderr cannot be sent (and the socket would take its number):
   * /dev/null stands in, which a Python program started directly would not notice either. */
  for (int fd = 0; fd <= 2; fd++)
    if (fcntl(fd, F_GETFD) < 0) {
      int n = open("/dev/null", O_RDWR);
      if (n >= 0 && n != fd) { dup2(n, fd); close(n); }
    }
  const char *root = getenv("LAB_SYSTEMCTL_ROOT");
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (snprintf(addr.sun_path, sizeof addr.sun_path, "%s/run/lab-systemd/manager.sock", root ? root : "") >= (int)sizeof addr.sun_path)
    fallback(argv);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) fallback(argv);
  if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
    if (errno == ENOENT || errno == ECONNREFUSED) spawn_manager(root);
    fallback(argv); /* this call still runs the Python program: the manager serves the next ones */
  }

  char num[32], cwd[4096];
  mode_t mask = umask(0);
  umask(mask);
  snprintf(num, sizeof num, "%o", (unsigned)mask);
  puts0(num);
  puts0(getcwd(cwd, sizeof cwd) ? cwd : "/");
  snprintf(num, sizeof num, "%d", argc);
  puts0(num);
  for (int i = 0; i < argc; i++) puts0(argv[i]);
  for (char **e = environ; *e; e++) puts0(*e);

  int fds[3] = {0, 1, 2};
  char control[CMSG_SPACE(sizeof fds)];
  memset(control, 0, sizeof control);
  struct iovec iov = {.iov_base = buf, .iov_len = 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof fds);
  memcpy(CMSG_DATA(c), fds, sizeof fds);
  if (sendmsg(s, &msg, MSG_NOSIGNAL) != 1) fallback(argv); /* nothing ran yet */
  for (size_t off = 1; off < len;) {
    ssize_t n = send(s, buf + off, len - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { fprintf(stderr, "systemctl: the lab manager closed the connection: %s\n", strerror(errno)); return 1; }
    off += (size_t)n;
  }
  shutdown(s, SHUT_WR);

  struct sigaction sa = {.sa_handler = forward};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);

  char reply[64];
  size_t got = 0;
  int lines = 0, code = -1;
  for (;;) {
    ssize_t n = read(s, reply + got, sizeof reply - 1 - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
    reply[got] = 0;
    char *nl;
    while ((nl = memchr(reply, '\n', got))) {
      *nl = 0;
      if (lines++ == 0) child = (pid_t)atoi(reply);
      else code = atoi(reply);
      got -= (size_t)(nl + 1 - reply);
      memmove(reply, nl + 1, got);
      reply[got] = 0;
    }
    if (got >= sizeof reply - 1) break;
  }
  if (code < 0) {
    fputs("systemctl: the lab manager ended the call without an exit code\n", stderr);
    return 1;
  }
  return code;
}
