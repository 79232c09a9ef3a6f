// Opens every host's session for one run, by the host's transport, and cleans up after the
// run: each OpenSSH master is asked to exit (through its control socket) and the run's private control folder
// is removed, whether the run ended normally, on Ctrl-C or on SIGTERM (run() awaits close()).
// Should the process exit before close() is done (a signal while closing, an uncaught error),
// its exit handler still kills the ssh clients running and removes the folder.
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ConnectionSpec } from './connection.ts';
import { openSshSession } from './openssh.ts';
import { localSession, type Session } from './session.ts';
import { makeFolders } from '../util/folders.ts';

export interface Connector {
  /** `oneRoundTrip`: this session runs one script (a later wave's recheck): no master of its own. */
  open(spec: ConnectionSpec, options?: { oneRoundTrip?: boolean }): Promise<Session>;
  /** Every master asked to exit, every control socket and the folder gone. */
  close(): Promise<void>;
}

export interface ConnectorOptions {
  /** Ansible's control_path_dir: the run's private folder is made inside it (default: the temp folder). */
  controlPathDir?: string;
  /** Every host takes one round trip (--check): no master of the run's own (openssh.ts). */
  oneRoundTrip?: boolean;
}

/**
 * Why a folder, or one above it, lets an account other than this one and root replace what is in
 * it (OpenSSH's rule for ~/.ssh: owned by the user or root, not writable by group or others),
 * unless the sticky bit keeps each entry its owner's (/tmp); undefined when none does.
 */
export async function writableByOthers(realPath: string): Promise<string | undefined> {
  const uid = process.getuid?.() ?? 0;
  // (already resolved by the caller, which also makes its folder there)
  for (let p = realPath; ; p = dirname(p)) {
    const st = await stat(p);
    if (st.uid !== uid && st.uid !== 0) return `${p} belongs to uid ${st.uid}`;
    if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0)
      return `${p} can be written by its group or by others (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`;
    if (p === dirname(p)) return undefined;
  }
}

export function connector(options: ConnectorOptions = {}): Connector {
  // The run's own folder in each control_path_dir (a host's ansible_control_path_dir, else the
  // run's), 0700 (mkdtemp's mode): nobody else can reach a master through it.
  const folders = new Map<string, Promise<string>>();
  /** The folders made so far, for the exit handler, which cannot await. */
  const made: string[] = [];
  const sshSessions: { session: ReturnType<typeof openSshSession>; socket: string }[] = [];
  /** The sessions whose local processes (ssh, sshpass, the local bash) the exit handler kills. */
  const killable: { killNow(): void }[] = [];
  /** At the process's exit, if close() has not finished: synchronous, all an exit handler can
   *  be. A master whose clients were killed and whose socket is gone takes no new session and
   *  ends after its ControlPersist idle time (60 s by default). */
  const atExit = () => {
    for (const s of killable) s.killNow();
    for (const path of made) {
      try {
        rmSync(path, { recursive: true, force: true });
      } catch {
        // the process is ending: a folder that cannot go (EBUSY, EACCES) stays, as after a kill -9
      }
    }
  };
  const killedAtExit = <S extends { killNow(): void }>(session: S): S => {
    if (killable.length === 0) process.on('exit', atExit);
    killable.push(session);
    return session;
  };
  const controlFolder = (parent: string) => {
    let folder = folders.get(parent);
    if (!folder) {
      folder = (async () => {
        try {
          await makeFolders(parent, 0o700);
          // Judged, and used, where it really is: a link (in a sticky /tmp, say) its owner could
          // point elsewhere after the judgement would lead the run's sockets there.
          const real = await realpath(parent);
          const unsafe = await writableByOthers(real);
          if (unsafe) {
            throw new Error(
              `${unsafe}: another account could put its own folder, and a master socket in it, where the run's is (ssh uses a master without asking whose it is, and hands it the scripts and the sudo password)`,
            );
          }
          const path = await mkdtemp(join(real, 'tp-ssh-'));
          made.push(path);
          return path;
        } catch (error) {
          // This machine's problem, not the host's: named as such, never "unreachable".
          throw new Error(
            `cannot make the run's folder of SSH control sockets in ${parent} (${(error as Error).message}): point control_path_dir ([ssh_connection] of ansible.cfg, ANSIBLE_SSH_CONTROL_PATH_DIR, or the host's ansible_control_path_dir) at a folder this user can write to and no other account can`,
          );
        }
      })();
      folders.set(parent, folder);
    }
    return folder;
  };
  const opening = new Set<Promise<unknown>>();
  let closing = false;
  let count = 0;
  const open = async (spec: ConnectionSpec, oneRoundTrip = options.oneRoundTrip ?? false): Promise<Session> => {
    if (spec.transport === 'local') return killedAtExit(localSession(spec));
    if (spec.transport === 'paramiko') return (await import('./paramiko.ts')).openParamikoSession(spec);
    const dir = await controlFolder(spec.controlPathDir ?? options.controlPathDir ?? tmpdir());
    // Short names: a unix socket path has room for about 100 bytes.
    const n = count++;
    const control = { socket: join(dir, `c${n}`), log: join(dir, `c${n}.log`), stderr: join(dir, `c${n}.err`) };
    const session = killedAtExit(openSshSession(spec, control, { oneRoundTrip }));
    sshSessions.push({ session, socket: control.socket });
    // Opened while the run was being closed (a second Ctrl-C during connects): close at once.
    if (closing) session.close();
    return session;
  };
  return {
    open(spec, opened) {
      const p = open(spec, opened?.oneRoundTrip);
      opening.add(p);
      void p.finally(() => opening.delete(p)).catch(() => undefined);
      return p;
    },
    async close() {
      closing = true;
      // Opens in flight end first (paramiko connects there, with a timeout); an OpenSSH session's
      // close() stops its connecting script itself.
      await Promise.allSettled([...opening]);
      for (const s of sshSessions) s.session.close();
      await Promise.all(sshSessions.map((s) => s.session.closed()));
      // The master removes its socket as it exits: wait for that (briefly) so no ssh outlives the run.
      const deadline = Date.now() + 3000;
      while (sshSessions.some((s) => existsSync(s.socket)) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const folder of folders.values()) {
        const path = await folder.catch(() => undefined);
        if (path) await rm(path, { recursive: true, force: true });
      }
      process.off('exit', atExit);
    },
  };
}
