// A remote script under the limits a hostile or broken host must not escape.
import type { Session } from '../exec/session.ts';
import { DEFAULT_MAX_HOST_OUTPUT_MIB } from '../exec/connection.ts';
import type { RunOptions } from './types.ts';

const DEFAULT_MAX_HOST_OUTPUT_BYTES = DEFAULT_MAX_HOST_OUTPUT_MIB * 1024 * 1024;

/** How long a script may take on one host. */
export interface ScriptLimit {
  /** The host's --remote-timeout (ConnectionSpec.scriptTimeoutSeconds: its timeout(1); 0: none). */
  remoteSeconds: number;
  /** A shorter wait of the controller's, past which the host fails (its session closed), and the
   *  problem it then reports (the facts: a read-only script that holds up every host's plan). */
  wait?: { seconds: number; problem: string };
}

/**
 * Runs a script with the limits a hostile or broken host must not escape: what it may send is
 * bounded (past the bound the session is closed and the host fails, so the controller never
 * holds more), and a script that outlives --remote-timeout is stopped (on the host by timeout(1),
 * exit 124/137; if the host does not even answer that, the controller closes the session 30 s
 * later), or that outlives the limit's shorter wait is given up on.
 */
export async function runBounded(
  session: Session,
  script: Parameters<Session['run']>[0],
  options: RunOptions,
  limit: ScriptLimit,
  onOutput?: (chunk: string) => void,
): Promise<{ result: Awaited<ReturnType<Session['run']>>; problem?: string }> {
  const maxBytes = options.maxHostOutputBytes ?? DEFAULT_MAX_HOST_OUTPUT_BYTES;
  const remote = limit.remoteSeconds;
  let problem: string | undefined;
  let received = 0;
  const giveUp = [
    ...(remote > 0
      ? [{ seconds: remote + 30, problem: `the host did not finish its script within --remote-timeout ${remote} s (nor stop it); the connection was closed` }]
      : []),
    ...(limit.wait ? [limit.wait] : []),
  ].sort((a, b) => a.seconds - b.seconds)[0];
  const timer = giveUp
    ? setTimeout(() => {
        problem ??= giveUp.problem;
        session.close();
      }, giveUp.seconds * 1000)
    : undefined;
  // stdout and stderr together: a host flooding either (`set -x` in a profile, a hostile sshd)
  // must not fill the controller's memory or its temp folder.
  let errorBytes = 0;
  const tooMuch = () => {
    if (received + errorBytes > maxBytes && !problem) {
      problem = `the host sent more than ${Math.round(maxBytes / 1024 / 1024)} MiB for one script (--max-host-output); the connection was closed`;
      session.close();
    }
  };
  try {
    const result = await session.run(
      script,
      (chunk) => {
        received += Buffer.byteLength(chunk);
        tooMuch();
        if (!problem) onOutput?.(chunk);
      },
      (total) => {
        errorBytes = total;
        tooMuch();
      },
    );
    if (!problem && remote > 0 && (result.code === 124 || result.code === 137)) {
      problem = `the script ran longer than --remote-timeout ${remote} s and was stopped on the host with everything it started`;
    }
    return { result, ...(problem ? { problem } : {}) };
  } finally {
    if (timer) clearTimeout(timer);
  }
}
