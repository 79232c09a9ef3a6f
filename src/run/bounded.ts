// A remote script under the limits a hostile or broken host must not escape.
import type { Session } from '../exec/session.ts';
import type { RunOptions } from './types.ts';

const DEFAULT_MAX_HOST_OUTPUT_BYTES = 64 * 1024 * 1024;

/**
 * Runs a script with the limits a hostile or broken host must not escape: what it may send is
 * bounded (past the bound the session is closed and the host fails, so the controller never
 * holds more), and a script that outlives --remote-timeout is stopped (on the host by timeout(1),
 * exit 124/137; if the host does not even answer that, the controller closes the session 30 s
 * later).
 */
export async function runBounded(
  session: Session,
  script: Parameters<Session['run']>[0],
  options: RunOptions,
  onOutput?: (chunk: string) => void,
): Promise<{ result: Awaited<ReturnType<Session['run']>>; problem?: string }> {
  const maxBytes = options.maxHostOutputBytes ?? DEFAULT_MAX_HOST_OUTPUT_BYTES;
  const limit = options.connection.scriptTimeoutSeconds ?? 0;
  let problem: string | undefined;
  let received = 0;
  const timer =
    limit > 0
      ? setTimeout(
          () => {
            problem ??= `the host did not finish its script within --remote-timeout ${limit} s (nor stop it); the connection was closed`;
            session.close();
          },
          (limit + 30) * 1000,
        )
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
    if (!problem && limit > 0 && (result.code === 124 || result.code === 137)) {
      problem = `the script ran longer than --remote-timeout ${limit} s and was stopped on the host with everything it started`;
    }
    return { result, ...(problem ? { problem } : {}) };
  } finally {
    if (timer) clearTimeout(timer);
  }
}
