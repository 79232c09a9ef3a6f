// Where events go: folded into the tally, formatted as lines (plain, or above an ora spinner on
// a terminal), every byte through the run's one SecretSet, which the sink owns (see redact.ts).
// ora is loaded only for a terminal: a run in a pipe, CI or cron never pays its start-up (~40 ms).
import type { Ora } from 'ora';
import type { Emit, RunEvent } from './events.ts';
import { type FormatOptions, formatEvent, formatRecap } from './format.ts';
import { type SecretSet, secretSet } from './redact.ts';
import { openRunLog } from './log-file.ts';
import { fold, newTally, type Tally } from './tally.ts';

export interface Sink {
  emit: Emit;
  tally: Tally;
  /**
   * The run's secret values: filled before any output (vault values, typed passwords, each
   * host's credentials); every other writer (reports, --list-hosts, errors) redacts with it too.
   */
  secrets: SecretSet;
  recap(): void;
  stop(): void;
  /** Prints text the run writes itself (warnings, --list-hosts, the last line), through the
   *  secret list and into the log like every event's lines. */
  say(text: string, to?: 'stdout' | 'stderr'): void;
  /** Into the log only: a fatal error, which the command's last handler prints. */
  log(text: string): void;
}

export interface SinkOptions extends FormatOptions {
  live: boolean; // a terminal: show a spinner with progress
  out: NodeJS.WritableStream;
  /** ansible.cfg's log_path: every line written is also appended there (log-file.ts). */
  logPath?: string;
  err?: NodeJS.WritableStream; // where say(…, 'stderr') writes: process.stderr
}

function progressText(t: Tally, phase: string): string {
  const counts = { ok: 0, changed: 0, failed: 0, unreachable: 0, skipped: 0 };
  for (const r of t.hosts.values()) counts[r.status]++;
  const done = [...t.hosts.values()].filter((r) => r.status !== 'ok' || r.roundTrips > 0).length;
  return `${phase}: ${done}/${t.hosts.size} hosts done · changed ${counts.changed} · failed ${counts.failed} · unreachable ${counts.unreachable} · skipped ${counts.skipped}`;
}

export async function createSink(options: SinkOptions): Promise<Sink> {
  const ora = options.live ? (await import('ora')).default : undefined;
  const tally = newTally();
  const secrets = secretSet();
  const redact = secrets.redact;
  let spinner: Ora | undefined;
  let phase = 'starting';
  // (on stderr, as Ansible's: stdout may be a listing a script reads)
  const warnOfLog = (message: string) => (options.err ?? process.stderr).write(`[WARNING]: ${redact(message)}\n`);
  const log = options.logPath !== undefined ? openRunLog(options.logPath, warnOfLog) : undefined;
  const write = (lines: string[]) => {
    if (!lines.length) return;
    const text = `${redact(lines.join('\n'))}\n`;
    log?.write(text);
    if (spinner?.isSpinning) {
      spinner.clear();
      options.out.write(text);
      spinner.render();
    } else options.out.write(text);
  };
  // The spinner's own colour follows the run's colour decision (ora alone knows no ANSIBLE_NOCOLOR).
  const emit = (e: RunEvent) => {
    let lines: string[];
    try {
      lines = formatEvent(e, options, tally);
    } finally {
      // The tally hears every event, also one its formatting failed on: a host's end missing
      // from it would count as ok in the recap, the reports and the exit code.
      fold(tally, e, Date.now());
    }
    write(lines);
    if (e.type === 'phase') phase = e.phase;
    if (ora) {
      if (e.type === 'run-start') spinner = ora({ text: 'connecting', stream: process.stderr, color: options.color ? 'cyan' : false }).start();
      if (spinner) spinner.text = redact(progressText(tally, phase));
      if (e.type === 'run-end') spinner?.stop();
    }
  };
  return {
    emit,
    tally,
    secrets,
    recap: () => write(formatRecap(tally, options)),
    say(text, to = 'stdout') {
      const clean = redact(text);
      log?.write(clean);
      (to === 'stderr' ? (options.err ?? process.stderr) : options.out).write(clean);
    },
    log: (text) => log?.write(redact(text)),
    stop: () => spinner?.stop(),
  };
}
