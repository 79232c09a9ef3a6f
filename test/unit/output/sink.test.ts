// The sink: every event reaches the tally, which the recap, the reports and the exit code read.
import { describe, expect, it } from 'vitest';
import { createSink } from '../../../src/output/sink.ts';
import { exitCode } from '../../../src/output/tally.ts';

describe('the sink', () => {
  it('folds an event into the tally even when formatting it fails: a failed host is never counted ok', async () => {
    const out: string[] = [];
    const sink = await createSink({ out: { write: (t: string) => out.push(t) } as never, live: false, color: false, verbosity: 0 } as never);
    sink.emit({ type: 'run-start', hosts: ['h1', 'h2'], mode: 'install', check: false } as never);
    // A message no formatter can print (a Symbol cannot become text): formatting throws.
    expect(() => sink.emit({ type: 'host-done', host: 'h1', status: 'failed', message: Symbol('unprintable'), roundTrips: 1, changed: 0 } as never)).toThrow(
      TypeError,
    );
    sink.emit({ type: 'host-done', host: 'h2', status: 'ok', roundTrips: 1, changed: 0 } as never);
    expect(sink.tally.hosts.get('h1')?.status).toBe('failed');
    expect(exitCode(sink.tally)).toBe(2);
  });
});
