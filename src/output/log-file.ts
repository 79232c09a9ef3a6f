// ansible.cfg's log_path (ANSIBLE_LOG_PATH): what the run prints, appended to a file as Ansible's
// logger writes it ("2026-12-07 07:40:00,123 p=PID u=USER n=NAME | message"), uncoloured. The
// sink hands it text already masked, so the file holds no secret either. Created 0600: a run's
// output names hosts, users and paths, which the admin's log need not show to everyone.
import { constants, openSync, writeSync } from 'node:fs';
import { userInfo } from 'node:os';
import { stripVTControlCharacters } from 'node:util';

/** Written synchronously, record by record: nothing is buffered for an exit to lose, and the
 *  descriptor closes with the process (the recap comes after the spinner stopped). */
export interface RunLog {
  write(text: string): void;
}

/** Python logging's asctime: local time, milliseconds after a comma. */
function asctime(now: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const date = `${now.getFullYear()}-${two(now.getMonth() + 1)}-${two(now.getDate())}`;
  return `${date} ${two(now.getHours())}:${two(now.getMinutes())}:${two(now.getSeconds())},${String(now.getMilliseconds()).padStart(3, '0')}`;
}

function userName(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid=${process.getuid?.() ?? '?'}`; // as Ansible names a user without a passwd entry
  }
}

/**
 * The log at `path`; undefined, after `warn` got the warning Ansible prints, when it cannot be
 * written (the run goes on without it, as Ansible's does). A write that fails later (a full disk)
 * warns once and ends the log: the screen still shows everything. Each write is one record: the
 * prefix on its first line.
 */
export function openRunLog(path: string, warn: (message: string) => void, name = 'trento-provision'): RunLog | undefined {
  let fd: number;
  try {
    // O_APPEND: records of runs at the same time never overwrite each other
    fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
  } catch (error) {
    warn(`log file at ${path} is not writeable and we cannot create it, aborting (${(error as NodeJS.ErrnoException).code ?? error})`);
    return undefined;
  }
  const prefix = `p=${process.pid} u=${userName()} n=${name} | `;
  let open = true;
  return {
    write(text) {
      if (!open) return;
      const message = stripVTControlCharacters(text).replace(/^\n+/, '').replace(/\n+$/, '');
      if (message === '') return;
      try {
        writeSync(fd, `${asctime(new Date())} ${prefix}${message}\n`);
      } catch (error) {
        open = false;
        warn(`log file at ${path} could not be written (${(error as NodeJS.ErrnoException).code ?? error}); the rest of this run is not logged`);
      }
    },
  };
}
