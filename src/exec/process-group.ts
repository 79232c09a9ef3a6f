// Stopping a transport's local process and everything it started. Each one (ssh, sshpass, the
// local bash) runs in a process group of its own (spawned detached): a Ctrl-C on the terminal
// reaches the toolkit alone, which lets the hosts in flight finish or stops them itself, by
// signalling the whole group. Not zx's kill(), which asks `ps` for the process tree first and
// sends nothing where there is no `ps` (a minimal admin machine).

/** How long a process has to end after SIGTERM before its group is killed: an
 *  ansible_ssh_executable wrapper that ignores SIGTERM must not hold the run's end. */
export const TERM_GRACE_MS = 3000;

/** A signal to the process group `pid` leads (or to the process alone, if it leads none). */
export function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** SIGTERM to the group, SIGKILL TERM_GRACE_MS later unless the process ended by then. Nothing
 *  once it ended: its group id may belong to another process by then. */
export function terminateGroup(pid: number | undefined, ended: () => boolean): void {
  if (pid === undefined || ended()) return;
  signalGroup(pid, 'SIGTERM');
  setTimeout(() => {
    if (!ended()) signalGroup(pid, 'SIGKILL');
  }, TERM_GRACE_MS).unref();
}
