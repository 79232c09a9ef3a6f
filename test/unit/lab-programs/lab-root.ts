// Removing a lab systemctl test root safely. After `systemctl stop`, a service's supervisor still
// runs `systemctl --lab-exited`, which takes the unit's lock under the root (and so recreates its
// state folder); on a loaded machine that start can take seconds. Removing the root while it
// runs races it (ENOTEMPTY), so wait until no process names the root in its argv or environment
// (LAB_SYSTEMCTL_ROOT), then remove it.
// The root's manager (`systemctl-py --lab-manager`) is only told to go once nothing else of the
// root runs: a supervisor's late `--lab-exited` call that finds no manager starts a new one, which
// would wait for calls for ten minutes.
import { readdirSync, readFileSync, rmSync } from 'node:fs';

function processesUsing(root: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    for (const file of ['cmdline', 'environ']) {
      try {
        if (readFileSync(`/proc/${pid}/${file}`, 'latin1').includes(root)) {
          found.push(pid);
          break;
        }
      } catch {
        /* gone meanwhile, or a zombie: nothing of it runs */
      }
    }
  }
  return found;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ').trim();
  } catch {
    return '(gone)';
  }
}

const isManager = (pid: number) => commandLine(pid).endsWith('--lab-manager');

/** Waits (up to `ms`) for every process started for `root` to end, ends its idle managers, then removes `root`. */
export async function removeLabRoot(root: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const left = processesUsing(root);
    if (left.length === 0) break;
    if (left.every(isManager)) {
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          /* gone meanwhile */
        }
      }
    }
    if (Date.now() > end) {
      const which = left.map((pid) => `${pid} (${commandLine(pid)})`).join(', ');
      throw new Error(`processes of the test root ${root} still run after ${ms} ms: ${which}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  rmSync(root, { recursive: true, force: true });
}
