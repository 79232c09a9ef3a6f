// How a fact source reads the exit code of the zypper it ran (sources/agent-candidate, updates):
// the codes that mean an answer, 106 a warning (some repositories skipped), anything else a
// problem of the host's, with zypper's last lines and what the plan cannot know without it.
import type { SourceResult } from './types.ts';

interface ZypperRead {
  /** zypper's exit code as recorded (undefined: zypper was not run). */
  rc: string | undefined;
  /** What zypper printed (its last lines go into the problem). */
  output: string | undefined;
  /** Exit codes that mean an answer besides 0. */
  answers: readonly string[];
  /** The command, as the problem names it ("zypper info trento-agent"). */
  command: string;
  /** What it was reading, for the 106 warning ("which trento-agent they offer"). */
  reading: string;
  /** What is not known without it, and so what the problem says. */
  without: string;
}

/** The warnings or problems of one zypper call (none when it answered). */
export function zypperOutcome(z: ZypperRead): Pick<SourceResult<never>, 'warnings' | 'problems'> {
  const { rc } = z;
  if (rc === undefined || rc === '0' || z.answers.includes(rc)) return {};
  if (rc === '106') return { warnings: [`zypper: some repositories could not be refreshed and were skipped (exit 106) while reading ${z.reading}`] };
  const why = (z.output ?? '').trim().split('\n').slice(-3).join(' ');
  return {
    problems: [
      `${z.command} failed (exit ${rc}${rc === '7' ? ': another process holds the package lock' : ''})${why ? `: ${why}` : ''}; ${z.without}; run again when zypper works`,
    ],
  };
}
