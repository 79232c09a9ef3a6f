// The default transport: the system OpenSSH client, run with zx, as Ansible's ssh connection
// does. Everything the admin's OpenSSH knows applies (ssh_config with Include/Match, the agent,
// certificates, @cert-authority, GSSAPI, FIDO keys, any ProxyJump/ProxyCommand). One
// ControlMaster per host, its socket in the run's private folder: the host's first script makes
// the only key exchange, every later round trip is a channel on that connection. A run of one
// round trip per host (--check) makes none.
import { type SpawnOptions, spawn } from 'node:child_process';
import { open, rm } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { makeFolders } from '../util/folders.ts';
import { dirname, resolve } from 'node:path';
import { getSystemErrorName } from 'node:util';
import { $, type ProcessOutput, type ProcessPromise } from 'zx/core';
import type { ConnectionSpec, OpenSshSpec } from './connection.ts';
import { expandControlPath, KEEPALIVE, openSshChosenUser, splitArgs } from './connection.ts';
import { toShell } from './command.ts';
import { ConnectError, remoteShell, type RunResult, type Session, wrapScript } from './session.ts';
import { signalGroup, terminateGroup } from './process-group.ts';
import { terminateMaster } from './ssh-mux.ts';

/** Where this session's ssh keeps its control socket, its connect log and the first script's stderr. */
export interface ControlFiles {
  socket: string;
  log: string;
  stderr: string;
}

/** The folder `%(directory)s` of Ansible's control_path stands for: one per host inside the run's
 *  private folder, so the socket stays private and goes with the folder, and a template without
 *  the host in it (`%(directory)s/master`) still gives every host a socket of its own. */
const templateDirectory = (control: Pick<ControlFiles, 'socket'>) => `${control.socket}.d`;

/**
 * Ansible's control_path where its ssh plugin applies it (the command line asks for
 * ControlPersist and sets no ControlPath, in ssh_args or the common or extra args): the socket
 * path, or undefined.
 */
export function templatedControlPath(ssh: OpenSshSpec, control: Pick<ControlFiles, 'socket'>): string | undefined {
  // As Ansible's _persistence_controls: every word of the command line, by substring.
  const args = [ssh.sshArgs, ssh.commonArgs, ssh.extraArgs].join(' ').toLowerCase();
  if (!ssh.controlPath || !args.includes('controlpersist') || args.includes('controlpath')) return undefined;
  return expandControlPath(ssh.controlPath, templateDirectory(control));
}

/** Whether a socket path lies in the run's private folder (`..` and doubled slashes resolved):
 *  the one rule for what is the run's own, there only the run has sessions on a master. */
export function inRunFolder(path: string, control: Pick<ControlFiles, 'socket'>): boolean {
  return resolve(path).startsWith(`${dirname(control.socket)}/`);
}

/** The control_path socket a command line uses (templatedControlPath): without multiplexing,
 *  only one outside the run's folder, where the admin may keep a master open. */
function templateInUse(ssh: OpenSshSpec, control: Pick<ControlFiles, 'socket'>, multiplex: boolean): string | undefined {
  const templated = templatedControlPath(ssh, control);
  return multiplex || templated === undefined || !inRunFolder(templated, control) ? templated : undefined;
}

/** ssh's -S SOCKET in the admin's arguments: a word of flags whose letters before the S take
 *  no argument (`-S`, `-vS`, `-NS`), not a `-o` such as `-oServerAliveInterval=5`. */
const hasSocketFlag = (args: string) => splitArgs(args).some((word) => /^-[46AaCfGgKkMNnqsTtVvXxYy]*S/.test(word));

/**
 * The ssh command line for a host (without destination and command), in Ansible's order.
 * `multiplex: false` (a run that takes one round trip per host, --check): the run's own sockets
 * give way to `ControlPath=none`, so no master is forked only to be closed again (~6 ms of ssh's
 * CPU per host here). A ControlPath the admin chose (ssh_args, the common or extra args, -S, or a
 * control_path template outside the run's folder) still comes first and wins, so a master the
 * admin keeps open is used as before.
 */
export function sshArgv(ssh: OpenSshSpec, timeoutSeconds: number, control: Pick<ControlFiles, 'socket'>, multiplex = true): string[] {
  const o = (option: string) => ['-o', option];
  const quoted = (value: string) => `"${value.replace(/(["\\])/g, '\\$1')}"`;
  // OpenSSH keeps the first value it is given for an option: what comes first wins, so the
  // admin's ssh_args come first and the toolkit's fallbacks (BatchMode, ControlPath) last.
  // A PKCS#11 token (with its PIN as the password): as Ansible, its options first, so they win,
  // and only the token's key logs in (sshpass must not answer a password prompt with the PIN).
  const token =
    ssh.pkcs11Provider && ssh.password !== undefined
      ? [
          ...o('KbdInteractiveAuthentication=no'),
          ...o('PreferredAuthentications=publickey'),
          ...o('PasswordAuthentication=no'),
          ...o(`PKCS11Provider=${quoted(ssh.pkcs11Provider)}`),
        ]
      : [];
  const templated = templateInUse(ssh, control, multiplex);
  return [
    ssh.executable,
    ...token,
    ...splitArgs(ssh.sshArgs),
    ...(ssh.verbosity > 3 ? ['-vvv'] : []),
    ...(ssh.hostKeyChecking ? [] : o('StrictHostKeyChecking=no')),
    ...(ssh.port !== undefined ? o(`Port=${ssh.port}`) : []),
    ...(ssh.privateKeyPath ? o(`IdentityFile=${quoted(ssh.privateKeyPath)}`) : []),
    ...(ssh.password === undefined
      ? [
          ...o('KbdInteractiveAuthentication=no'),
          ...o('PreferredAuthentications=gssapi-with-mic,gssapi-keyex,hostbased,publickey'),
          ...o('PasswordAuthentication=no'),
        ]
      : []),
    ...(ssh.user !== undefined ? o(`User=${quoted(ssh.user)}`) : []),
    ...o(`ConnectTimeout=${timeoutSeconds}`),
    ...splitArgs(ssh.commonArgs),
    ...splitArgs(ssh.extraArgs),
    // After the common and extra args, where Ansible adds it (only when none of them set one).
    ...(templated !== undefined ? o(`ControlPath=${quoted(templated)}`) : []),
    // As OpenSSH's own scp and sftp: a RequestTTY or RemoteCommand an ssh_config keeps for
    // interactive logins gives way (the command line wins over every config file). A terminal
    // would echo the script and the sudo password back on stdout; a RemoteCommand would make ssh
    // refuse the script. On the command line they are settings errors (stdinProtocolRefusals).
    ...o('RequestTTY=no'),
    ...o('RemoteCommand=none'),
    // A host gone silent (paused VM, a partition, a firewall dropping the connection's state)
    // while its script prints nothing is found in about a minute, not by TCP's keepalive in two
    // hours or the --remote-timeout timer (the admin's own ServerAlive* come first and win).
    ...o(`ServerAliveInterval=${KEEPALIVE.intervalSeconds}`),
    ...o(`ServerAliveCountMax=${KEEPALIVE.countMax}`),
    // Never a prompt on the terminal of a run that handles 50 hosts at once: an unknown host
    // key or a key that needs a passphrase fails instead. (sshpass answers the password prompt.)
    ...(ssh.password === undefined ? o('BatchMode=yes') : []),
    ...o(multiplex ? `ControlPath=${quoted(control.socket)}` : 'ControlPath=none'),
  ];
}

/** The destination after `--`, so an inventory value can never be read as an ssh option. */
const target = (ssh: OpenSshSpec) => ['--', ssh.destination];

/** A password login through sshpass: the password, and the prompt sshpass answers (-P) when set. */
type SshpassLogin = { password: string; prompt?: string } | undefined;
const sshpassLogin = (ssh: OpenSshSpec): SshpassLogin =>
  ssh.password === undefined ? undefined : { password: ssh.password, ...(ssh.sshpassPrompt ? { prompt: ssh.sshpassPrompt } : {}) };

/** Runs one ssh command line: stdin as given, the password on fd 3 for sshpass -d3. */
function spawnSsh(argv: string[], login: SshpassLogin, input: string, onOutput?: (chunk: string) => void, stderr: 'pipe' | number = 'pipe'): ProcessPromise {
  const password = login?.password;
  // The prompt is no secret: it may be on sshpass's command line, as with Ansible.
  const command = login !== undefined ? ['sshpass', '-d3', ...(login.prompt ? ['-P', login.prompt] : []), ...argv] : argv;
  const p = $({
    quiet: true,
    verbose: false,
    nothrow: true,
    // Its own process group: a Ctrl-C on the terminal reaches the toolkit only, which lets the
    // hosts in flight finish (first Ctrl-C) or closes every master itself (second).
    detached: true,
    // ssh is started as it is, not by zx's `bash -c LINE`: no shell ever reads an inventory
    // value, and no bash starts (and execs ssh) for every round trip of every host, which cost
    // ~3 ms of CPU each on this machine. zx still runs the process (streams, kill, exit code).
    spawn: ((_line: string, _args: readonly string[], options: SpawnOptions) =>
      spawn(command[0]!, command.slice(1), { ...options, shell: false })) as typeof spawn,
    stdio: password !== undefined ? ['pipe', 'pipe', stderr, 'pipe'] : ['pipe', 'pipe', stderr],
  })`${command}`;
  if (password !== undefined) {
    const fd3 = p.child?.stdio[3] as NodeJS.WritableStream | undefined;
    // sshpass closes its end once it has read the password: that is not an error of the run.
    fd3?.on('error', () => undefined);
    fd3?.end(`${password}\n`);
  }
  // One decoder for the stream: a character split between two reads stays one character (zx's
  // own ProcessOutput.stdout decodes each read alone, so the result's stdout is this text too).
  const decoder = new StringDecoder('utf8');
  if (onOutput) {
    p.stdout.on('data', (chunk: Buffer) => onOutput(decoder.write(chunk)));
    p.stdout.on('end', () => {
      const rest = decoder.end();
      if (rest) onOutput(rest);
    });
  }
  // ssh may exit before reading all of stdin (connection refused): its exit code tells.
  p.stdin.on('error', () => undefined);
  p.stdin.end(input);
  return p;
}

/** What went wrong connecting (the host's first script), from ssh's log (-v -E) and sshpass's
 *  exit code; `stderr` is what ssh printed before -E took effect (its options refused). */
export function connectFailure(spec: ConnectionSpec, code: number | null, log: string, stderr = ''): ConnectError {
  const ssh = spec.openssh;
  // ssh reads its command line before -E sends its log to the file: an option it refuses (a
  // typo, one newer than this OpenSSH, a bad -p) is on stderr alone, and it never connected. The
  // same for every host with these options: named, and not tried again.
  const refused = stderr.trim();
  // One of the toolkit's own options (sshArgv), unknown to an OpenSSH older than 7.6.
  const own = /Bad configuration option: (remotecommand|requesttty|serveraliveinterval|serveralivecountmax)\b/i.exec(refused);
  if (log.trim() === '' && own && code === 255) {
    return new ConnectError(
      'local',
      `the OpenSSH client (${ssh.executable}) does not know ${own[1]}, which trento-provision sets on every connection (as OpenSSH's own scp does, since OpenSSH 7.6): use OpenSSH 7.6 or later (ansible_ssh_executable), or ansible_connection=paramiko`,
    );
  }
  if (log.trim() === '' && refused && code === 255) {
    return new ConnectError(
      'local',
      `ssh refused its options before connecting to ${ssh.destination}: ${refused.split(/\r?\n/).slice(0, 3).join(' / ')}; check ansible_ssh_args, ansible_ssh_common_args (--ssh-common-args), ansible_ssh_extra_args (--ssh-extra-args) and ssh_config (ssh -G ${ssh.destination} reads them without connecting)`,
    );
  }
  // ssh (or sshpass) never started (there is no log to read): node reports the failed exec as a negative errno.
  if (code !== null && code < 0) {
    return new ConnectError(
      'unreachable',
      `cannot start the OpenSSH client for ${ssh.destination}: ${ssh.password !== undefined ? 'sshpass' : ssh.executable}: ${getSystemErrorName(code)}; check ansible_ssh_executable and PATH`,
    );
  }
  // A certificate is logged as "Server host certificate: TYPE SHA256:..., serial ...".
  const serverKey = /Server host (?:key|certificate): (\S+) (SHA256:[^\s,]+)/.exec(log);
  const authenticating = /Authenticating to (\S+?):(\d+) as '([^']*)'/.exec(log);
  const connecting = /Connecting to (\S+) \[[^\]]*\] port (\d+)/.exec(log);
  const address = authenticating?.[1] ?? connecting?.[1] ?? ssh.destination;
  const port = Number(authenticating?.[2] ?? connecting?.[2] ?? ssh.port ?? 22);
  const name = port === 22 ? address : `[${address}]:${port}`;
  const knownHosts = /UserKnownHostsFile=(\S+)/i.exec(`${ssh.commonArgs} ${ssh.extraArgs} ${ssh.sshArgs}`)?.[1] ?? '~/.ssh/known_hosts';
  const said = sshMessages(log.split(/\r?\n/));
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|POSSIBLE DNS SPOOFING/.test(log)) {
    const offending = /Offending \S+ key in (\S+):(\d+)/.exec(log);
    const file = offending?.[1] ?? knownHosts;
    // base64 alone: the period that ends ssh's sentence is no part of the fingerprint
    const fp = /key sent by the remote host is\s+(SHA256:[A-Za-z0-9+/]+)/.exec(log)?.[1] ?? serverKey?.[2] ?? '(see ssh -v)';
    return new ConnectError(
      'host-key',
      `HOST KEY CHANGED for ${name}: it now offers ${serverKey?.[1] ?? 'a key'} ${fp}, which differs from ${offending ? `${offending[1]}:${offending[2]}` : file}. ` +
        `This may be an attack or a reinstalled host. If the change is expected, remove the old entry (ssh-keygen -R '${name}' -f ${file}) and add the new one.`,
    );
  }
  if (code === 6 || /Host key verification failed|host key is known for|No \S+ host key is known/.test(log)) {
    const type = serverKey?.[1] ?? 'its key';
    const plainType = serverKey ? type.replace(/-cert-v01@openssh\.com$/, '').replace(/^ssh-/, '') : '*';
    return new ConnectError(
      'host-key',
      `unknown host key for ${name}: ${type} ${serverKey?.[2] ?? ''} is not in ${knownHosts} (nor signed by a @cert-authority there). `.replace('  ', ' ') +
        `Check the fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_${plainType}_key.pub), ` +
        `then add it (ssh-keyscan -p ${port} ${address} >> ${knownHosts}), ` +
        `or opt out of host key checking like Ansible (ANSIBLE_HOST_KEY_CHECKING=False).`,
    );
  }
  const user = authenticating?.[3] ?? ssh.user ?? openSshChosenUser();
  if (code === 5) {
    const what = ssh.pkcs11Provider ? "the PKCS#11 token's PIN" : 'the password';
    return new ConnectError('auth', `authentication failed for ${user}@${address}:${port}: ${what} was refused (sshpass); check ansible_password / -k`);
  }
  // A wrong PIN: ssh logs the token's refusal and goes on without its keys (exit 255, not sshpass's 5).
  const pin = ssh.pkcs11Provider ? /PKCS#11 login failed: ([^\r\n]*)/.exec(log) : null;
  if (pin) {
    return new ConnectError(
      'auth',
      `authentication failed for ${user}@${address}:${port}: the PKCS#11 token refused the PIN (${pin[1]!.trim()}); check ansible_password / -k`,
    );
  }
  if (/Permission denied|Too many authentication failures|Authentication failed/.test(log)) {
    return new ConnectError(
      'auth',
      `authentication failed for ${user}@${address}:${port} (${said || 'permission denied'}); check ansible_user and ansible_ssh_private_key_file, the agent (ssh-add -l) and ssh_config`,
    );
  }
  // ssh logged nothing (not even its banner): a -q after the toolkit's -v silenced its log, so
  // no refused key or host key can be told from a host that cannot be reached.
  const silenced = log.trim() === '' ? " and logged nothing: a -q in ssh_args or the common/extra args silences ssh's log; leave it out to see why" : '';
  return new ConnectError(LOCAL_CAUSE.test(said) ? 'local' : 'unreachable', `cannot reach ${address}:${port}: ${said || `ssh exited ${code}`}${silenced}`);
}

export interface SessionOptions {
  /** The run takes one round trip per host (--check): no master of the run's own (sshArgv). */
  oneRoundTrip?: boolean;
}

/**
 * A session whose first script opens the host's master connection, as Ansible's first task
 * does: ssh logs that first connection with -v into the control log (so a failure can say which
 * host key was offered) and forks the master (ControlPersist); every later script is a client of
 * that master. A converged host thus costs one ssh process. close() asks the master to exit
 * through its control socket; the returned promise is kept by closed(). With `oneRoundTrip`
 * (--check) the first script makes no master of the run's own (a ControlPath of the admin's may
 * still make one, which close() asks to stop as before).
 */
export function openSshSession(
  spec: ConnectionSpec,
  control: ControlFiles,
  options: SessionOptions = {},
): Session & { closed(): Promise<void>; killNow(): void } {
  const ssh = spec.openssh;
  const multiplex = !options.oneRoundTrip;
  const argv = sshArgv(ssh, Math.max(1, Math.round(spec.timeoutMs / 1000)), control, multiplex);
  const shell = remoteShell(spec);
  // -vvvv: ssh runs with -vvv (in argv) and its account of the login is shown.
  const debugging = ssh.verbosity > 3;
  const running = new Set<ProcessPromise>();
  let trips = 0;
  let authenticated = false;
  // The admin's own ControlPath (in ssh_args, the common or extra args, as -S, or Ansible's
  // control_path) wins over the run's, as with Ansible. Then only ssh's own log of the first
  // script tells whether it made a master, and where: it may have used one the admin or an
  // Ansible run had open, or made none (multiplexing off, or refused by that master).
  const args = `${ssh.sshArgs} ${ssh.commonArgs} ${ssh.extraArgs}`;
  const templated = templateInUse(ssh, control, multiplex) !== undefined;
  const maybeElsewhere = /controlpath/i.test(args) || hasSocketFlag(args) || templated;
  /** The socket of the master this run made, when it is not the run's own. */
  let masterElsewhere: string | undefined;
  let closing: Promise<void> | undefined;
  const track = async (p: ProcessPromise) => {
    running.add(p);
    try {
      return await p;
    } finally {
      running.delete(p);
    }
  };
  /** ssh with its stderr in a file, read back once it ended: a ProxyCommand/ProxyJump process
   *  started with a master inherits ssh's stderr and lives as long as the master, so a pipe would
   *  not close before the master ends. Every run, not only the connecting one: a later script
   *  whose master went away (ControlPersist ran out before the apply: a later --serial wave, a
   *  long facts phase) makes a new master itself. */
  const withStderrFile = async (
    args: string[],
    input: string,
    onOutput?: (chunk: string) => void,
    onErrorBytes?: (total: number) => void,
  ): Promise<[ProcessOutput, string, string] | undefined> => {
    // A new file each time: a ProxyCommand an earlier run left with its master still holds the
    // old one, and would write into this run's at its own offset.
    await rm(control.stderr, { force: true });
    const errors = await open(control.stderr, 'w', 0o600);
    // ssh writes the file itself: its size, looked at while the script runs and once at its
    // end, is what the host sent on stderr (runBounded cuts a flood).
    const measure = () =>
      errors.stat().then(
        (st) => onErrorBytes?.(st.size),
        () => undefined,
      );
    const watch = onErrorBytes ? setInterval(() => void measure(), STDERR_WATCH_MS) : undefined;
    let out: ProcessOutput;
    let stdout = '';
    const collect = (text: string) => {
      stdout += text;
      onOutput?.(text);
    };
    try {
      // close() may have run during the awaits above: no ssh (and no master) after it
      if (closing) return undefined;
      out = await track(spawnSsh(args, sshpassLogin(ssh), input, collect, errors.fd));
      await measure();
    } finally {
      clearInterval(watch);
      await errors.close();
    }
    return [out, stdout, await fileTail(control.stderr, STDERR_KEPT_BYTES)];
  };
  /** The script as the connecting run (its stderr in a file, see withStderrFile). */
  const connectingRun = async (input: string, onOutput?: (chunk: string) => void, onErrorBytes?: (total: number) => void): Promise<RunResult> => {
    const verbose = debugging ? [] : ['-v'];
    if (templated) await makeFolders(templateDirectory(control), 0o700);
    const ran = await withStderrFile([...argv, ...verbose, '-E', control.log, ...target(ssh), shell.command], input, onOutput, onErrorBytes);
    if (!ran) return closedResult();
    const [out, stdout, stderr] = ran;
    // ssh's log is read when the login may have failed, and at -vvvv, where ssh's -vvv account
    // of the connection is what the admin asked to see (it comes before the script's stderr).
    const log = out.exitCode !== 0 || debugging || maybeElsewhere ? await fileEnds(control.log, LOG_KEPT_BYTES) : '';
    if (maybeElsewhere) masterElsewhere = masterMadeAt(log);
    // Once the session opened, the script ran, whatever its exit code (sshpass's 5 and 6 or
    // ssh's 255 mean a failed login only when it did not). A -q after the toolkit's -v in the
    // admin's arguments can leave ssh's log empty: then only ssh's own exit codes mean one.
    const loginFailed = /^debug1: /m.test(log) ? !sessionOpened(log) : sshOwnExit(out.exitCode, ssh.password !== undefined);
    if (out.exitCode !== 0 && loginFailed) {
      if (closing) return closedResult();
      throw connectFailure(spec, out.exitCode, log, stderr);
    }
    authenticated = true;
    // Lost after the login (ssh's 255, the script silent): why is in ssh's log, e.g. a ControlPath
    // too long for a socket ("unix_listener: ... too long for Unix domain socket").
    const lost = out.exitCode === 255 && stderr.trim() === '' ? masterSaid(log) : '';
    // ssh ends its log lines with CR LF (its terminal's line ending): plain lines in our output.
    const result = resultOf(out, stdout, debugging ? `${log.replace(/\r\n/g, '\n')}${stderr}` : lost || stderr);
    return result.code === null && LOCAL_CAUSE.test(result.stderr) ? { ...result, lostHere: true } : result;
  };
  return {
    host: spec.host,
    async run(script, onOutput, onErrorBytes): Promise<RunResult> {
      trips++;
      if (closing) return closedResult();
      const input = shell.stdinPrefix + wrapScript(toShell(script));
      if (!authenticated) return connectingRun(input, onOutput, onErrorBytes);
      // Logged (-v, into a file of its own: control.log is the master's) so that a login this ssh
      // makes itself, the master gone (ControlPersist ran out before a later wave's apply), is told
      // from a script that ran: a refused one never reached the host, and is said as a failed login.
      const clientLog = `${control.log}.client`;
      if (!debugging) await rm(clientLog, { force: true });
      const logged = debugging ? [] : ['-v', '-E', clientLog];
      const ran = await withStderrFile([...argv, ...logged, ...target(ssh), shell.command], input, onOutput, onErrorBytes);
      if (!ran) return closedResult();
      const [out, stdout, stderr] = ran;
      if (out.exitCode !== 0 && !debugging) {
        const log = await fileEnds(clientLog, LOG_KEPT_BYTES);
        if (/^debug1: /m.test(log) && !sessionOpened(log)) {
          if (closing) return closedResult();
          throw connectFailure(spec, out.exitCode, log, stderr);
        }
      }
      // A client of the master says nothing when the master's connection drops (ssh logs that
      // at debug2); the master, started with -v -E, wrote why into the control log.
      const lost = out.exitCode === 255 && stderr.trim() === '' ? masterSaid(await fileEnds(control.log, LOG_KEPT_BYTES)) : '';
      return resultOf(out, stdout, lost || stderr);
    },
    roundTrips: () => trips,
    close() {
      closing ??= (async () => {
        // Scripts in flight first (a connecting one may be about to fork its master), then
        // the master: asked through its socket, or by `ssh -O exit` if it will not answer that.
        for (const p of running) terminate(p);
        await Promise.allSettled([...running]);
        // (A first script stopped here may not have read its log yet.)
        const elsewhere = masterElsewhere ?? (maybeElsewhere ? masterMadeAt(await fileEnds(control.log, LOG_KEPT_BYTES)) : undefined);
        // Without multiplexing the run's own socket is never made (ControlPath=none).
        if (elsewhere === undefined && !multiplex) return;
        const socket = elsewhere ?? control.socket;
        // In the run's private folder nobody else has a session on the master: it exits now. At
        // the admin's path others may (an Ansible run): it stops listening, theirs finish first.
        const request = inRunFolder(socket, control) ? 'terminate' : 'stop';
        const outcome = await terminateMaster(socket, 5000, request);
        if (outcome.kind === 'failed') {
          // ControlMaster=no: with yes or ask from ssh_args, ssh would log in instead of asking.
          const verb = request === 'terminate' ? 'exit' : 'stop';
          // Bounded: a master that did not answer the mux hello in 5 s may not answer ssh either,
          // and the run's end (its recap, its exit) waits for this.
          // (Not zx's .timeout(): its kill asks `ps` first, and crashes the run where there is none.)
          const asking = spawnSsh([ssh.executable, '-q', '-o', 'ControlMaster=no', '-S', socket, '-O', verb, ...target(ssh)], undefined, '');
          const bound = setTimeout(() => signalGroup(asking.child?.pid, 'SIGKILL'), 5000);
          await asking.finally(() => clearTimeout(bound));
        }
      })();
    },
    closed: () => closing ?? Promise.resolve(),
    // Synchronous, for the process's exit: every ssh still running, and what it started, killed.
    killNow() {
      for (const p of running) if (!ended(p)) signalGroup(p.child?.pid, 'SIGKILL');
    },
  };
}

/**
 * The socket of the master an ssh made and left running in the background (ControlPersist), from
 * its -v log; undefined when it made none (it used a master that was there, or multiplexing was
 * off, or the socket was taken: "ControlSocket ... already exists, disabling multiplexing").
 */
export function masterMadeAt(log: string): string | undefined {
  // The listener's channel, the first after "setting up multiplex master socket": OpenSSH 9.2 logs
  // it "channel 0: new mux listener [PATH] (inactive timeout: 0)", older ones "channel 0: new [PATH]".
  const listener = /setting up multiplex master socket\r?\n(?:.*\r?\n)*?debug1: channel \d+: new (?:mux listener )?\[([^\]\r\n]+)\]/.exec(log);
  return listener && /control_persist_detach: backgrounding master process/.test(log) ? listener[1] : undefined;
}

/**
 * Whether ssh's -v log shows the script's session open: after its own login ("Authenticated to
 * HOST", LogLevel VERBOSE), or through a master that was open before (the admin's, an Ansible
 * run's), where ssh logs no login, only the session the master granted.
 */
export function sessionOpened(log: string): boolean {
  return /^Authenticated to /m.test(log) || /^debug1: mux_client_request_session: master session id: \d+/m.test(log);
}

/** Exit codes of ssh itself (255, or no code: it did not run), or of sshpass (5: password
 *  refused, 6: host key unknown), rather than of the remote command. */
function sshOwnExit(code: number | null, viaSshpass: boolean): boolean {
  return code === null || code < 0 || code === 255 || (viaSshpass && (code === 5 || code === 6));
}

/** ssh's words for a failure on this machine, which a new connection would meet again: the
 *  master's socket path too long for a unix socket (before the login, or after it for the
 *  temporary name), a forwarding of the admin's arguments refused (ExitOnForwardFailure). */
const LOCAL_CAUSE = /ControlPath too long|too long for Unix domain socket|Could not request \S+ forwarding|forwarding failed/;

/** Lines of ssh's -v log that say nothing of a failure: its debug lines, banner, notices about
 *  known_hosts and the transfer figures it logs at exit. */
const SSH_LOG_NOISE =
  /^debug\d:|^OpenSSH_|^Warning: Permanently added|^@+$|^Pseudo-terminal|^Transferred: |^Bytes per second: |^\(\d+ bytes of the log left out\)$/;

/** A script's stderr without ssh's -v log (with -vvvv, ssh's -vvv lines come on the same
 *  stream): what the host said, so that a failure's headline is its cause, not ssh's banner. */
export function withoutSshLog(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => !SSH_LOG_NOISE.test(l.replace(/\r$/, '')) && !/^Authenticated to /.test(l))
    .join('\n');
}

/** What ssh itself said in its -v log, on one line (SSH_LOG_NOISE left out). */
function sshMessages(lines: string[]): string {
  return lines
    .filter((l) => l.trim() !== '' && !SSH_LOG_NOISE.test(l))
    .join(' ')
    .trim();
}

/** Why the master's connection went away, from what it logged since it authenticated: its own
 *  messages ("client_loop: send disconnect: ...", "Timeout, server HOST not responding."), or,
 *  where it logged only its debug lines, a session that ended without the script's exit status. */
export function masterSaid(log: string): string {
  const lines = log.split(/\r?\n/);
  const after = lines.slice(lines.map((l) => l.startsWith('Authenticated to ')).lastIndexOf(true) + 1);
  const said = sshMessages(after);
  if (/too long for Unix domain socket/.test(said)) {
    return `${said} (shorten the ControlPath of ssh_args, control_path_dir, or TMPDIR, where the run's control folder is made by default)`;
  }
  if (said) return said;
  return after.some((l) => /^debug\d: Exit status -1\b/.test(l)) ? "the connection closed before the script's exit status came back" : '';
}

/** How often the size of a running script's stderr file is looked at. */
const STDERR_WATCH_MS = 500;
/** The most of a script's stderr read back for messages: its end, where the reason is. */
const STDERR_KEPT_BYTES = 1024 * 1024;

/** The last `bytes` of a file ('' when it cannot be read): a flood on stderr is never read whole. */
/** The most of ssh's -v log read back from each end: its start says how the login went, its end
 *  why the master's connection went; a host may make the master log without end (each global
 *  request the server sends is a line), and the run must not read gigabytes for a message. */
const LOG_KEPT_BYTES = 256 * 1024;

/** A file's start and end, at most `bytes` of each, whole lines, with what was left out said
 *  between them; the whole file when it is not larger than both; '' when it cannot be read. */
export async function fileEnds(path: string, bytes: number): Promise<string> {
  try {
    const file = await open(path, 'r');
    try {
      const { size } = await file.stat();
      if (size <= 2 * bytes) return (await file.readFile()).toString('utf8');
      const head = (await file.read(Buffer.alloc(bytes), 0, bytes, 0)).buffer;
      const tail = (await file.read(Buffer.alloc(bytes), 0, bytes, size - bytes)).buffer;
      const headEnd = head.lastIndexOf(0x0a) + 1;
      const tailStart = tail.indexOf(0x0a) + 1;
      return `${head.subarray(0, headEnd).toString('utf8')}(${size - headEnd - (bytes - tailStart)} bytes of the log left out)\n${tail.subarray(tailStart).toString('utf8')}`;
    } finally {
      await file.close();
    }
  } catch {
    return '';
  }
}

export async function fileTail(path: string, bytes: number): Promise<string> {
  try {
    const file = await open(path, 'r');
    try {
      const { size } = await file.stat();
      const length = Math.min(size, bytes);
      const { buffer } = await file.read(Buffer.alloc(length), 0, length, size - length);
      // A cut inside a character: its continuation bytes (10xxxxxx, at most 3) go with the part left out.
      let start = 0;
      if (size > length) while (start < 3 && start < buffer.length && (buffer[start]! & 0xc0) === 0x80) start++;
      return `${size > length ? `(${size - length + start} bytes of stderr left out)\n` : ''}${buffer.subarray(start).toString('utf8')}`;
    } finally {
      await file.close();
    }
  } catch {
    return '';
  }
}

/** A script asked for, or cut, once the session was closing: it never ran, or its end is unknown. */
const closedResult = (): RunResult => ({ code: null, stdout: '', stderr: 'connection closed' });

/** Whether zx saw the process end (after which its group id may be another's). */
const ended = (p: ProcessPromise) => p.stage === 'fulfilled' || p.stage === 'rejected';

/** SIGTERM to ssh (or sshpass) and all it started, SIGKILL after the grace if it is still there. */
const terminate = (p: ProcessPromise) => terminateGroup(p.child?.pid, () => ended(p));

/** 255 is ssh's own failure (the connection dropped, the master went away), a negative code an
 *  ssh that could not start: the script's end is unknown, as with a dropped in-process connection. */
function resultOf(out: ProcessOutput, stdout: string, stderr: string): RunResult {
  const lost = out.exitCode === 255 || out.exitCode === null || out.exitCode < 0;
  return { code: lost ? null : out.exitCode, stdout, stderr };
}
