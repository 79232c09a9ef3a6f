import { describe, expect, it } from 'vitest';
import { markerReader, parseMarker } from '../../../src/apply/markers.ts';
import { secretSet } from '../../../src/output/redact.ts';
import type { RunEvent } from '../../../src/output/events.ts';
import { exitCode, fold, newTally } from '../../../src/output/tally.ts';
import type { Proof } from '../../../src/verify/types.ts';

describe('redaction', () => {
  it('masks every secret, also URL-encoded, JSON- and Alloy-escaped, and regex metacharacters', () => {
    const secret = 'p@ss"w\\rd.*+?';
    const r = secretSet([secret, 'token-12']).redact;
    const text = `a ${secret} b ${encodeURIComponent(secret)} c ${JSON.stringify(secret)} d token-12`;
    const out = r(text);
    expect(out).not.toContain(secret);
    expect(out).not.toContain(encodeURIComponent(secret));
    expect(out).not.toContain('token-12');
    expect(out).toContain('a ******** b ******** c "********" d ********');
  });

  it('leaves values shorter than 8 characters to the structured masks, so messages stay readable', () => {
    const r = secretSet(['trento', 'pass', 'longer-secret']).redact;
    expect(r('trento_prometheus_auth_password is wrong; longer-secret')).toBe('trento_prometheus_auth_password is wrong; ********');
  });
});

describe('markers', () => {
  it('reads markers split across chunks', () => {
    const seen: string[] = [];
    const read = markerReader((m) => seen.push(m.kind));
    read('noise\n@@tp beg');
    read(`in 0\n@@tp ok 0\n@@tp failed 1 2 x${Buffer.from('boom').toString('base64')}\n@@tp done\n`);
    expect(seen).toEqual(['begin', 'ok', 'failed', 'done']);
    expect(parseMarker(`@@tp failed 1 2 x${Buffer.from('boom').toString('base64')}`)).toMatchObject({ rc: 2, output: 'boom' });
    expect(parseMarker(`@@tp unverified ${Buffer.from('a check').toString('base64')} x`)).toMatchObject({ check: 'a check', output: '' });
    // -v: a step that succeeded with its output's end
    expect(parseMarker(`@@tp ok 3 x${Buffer.from('Installing: trento-agent').toString('base64')}`)).toEqual({
      kind: 'ok',
      step: 3,
      output: 'Installing: trento-agent',
    });
    expect(parseMarker('@@tp ok 3')).toEqual({ kind: 'ok', step: 3 });
  });

  it('a line longer than any marker is dropped, whatever it ends with; the markers after it are read', () => {
    const seen: string[] = [];
    const read = markerReader((m) => seen.push(m.kind));
    read('@@tp ok 1');
    // 2 MiB without a line break, in chunks, then the end of that line: not a marker
    for (let i = 0; i < 32; i++) read('#'.repeat(65536));
    read(' @@tp done\n@@tp ok 2\n@@tp beg');
    read('in 3\n');
    expect(seen).toEqual(['ok', 'begin']);
  });
});

describe('exit codes (Ansible)', () => {
  const tally = (statuses: string[]) => {
    const t = newTally();
    fold(t, { type: 'run-start', mode: 'install', check: false, hosts: statuses.map((_, i) => `h${i}`), forks: 5 });
    for (const [i, s] of statuses.entries()) fold(t, { type: 'host-done', host: `h${i}`, status: s as never, changed: 0, roundTrips: 1 });
    return t;
  };
  it.each([
    [['ok', 'changed', 'skipped'], 0],
    [['ok', 'failed'], 2],
    [['failed', 'unreachable'], 4],
  ])('%j -> %i', (statuses, code) => expect(exitCode(tally(statuses))).toBe(code));
});

describe('the rollout under the recap', () => {
  it("names a wave's unreachable hosts as unreachable, its failed ones as failed", async () => {
    const { formatRecap } = await import('../../../src/output/format.ts');
    const t = newTally();
    const events: RunEvent[] = [
      { type: 'run-start', mode: 'install', check: false, hosts: ['a', 'b', 'c'], forks: 3 },
      { type: 'waves', serial: '2', maxFailPercentage: null, waves: [['a', 'b'], ['c']] },
      { type: 'wave-start', wave: 1, of: 2, hosts: ['a', 'b'] },
      { type: 'host-unreachable', host: 'a', message: 'connection refused' },
      { type: 'host-done', host: 'b', status: 'failed', changed: 0, roundTrips: 2 },
      { type: 'wave-end', wave: 1, size: 2, failed: 2, skipped: 0, stopped: 'every host of the wave failed or was unreachable (2 of 2, 1 unreachable)' },
      { type: 'host-done', host: 'c', status: 'skipped', changed: 0, roundTrips: 0, message: 'not started' },
      { type: 'rollout-stopped', wave: 1, reason: 'wave 1: every host of the wave failed or was unreachable (2 of 2, 1 unreachable)', notStarted: ['c'] },
    ];
    for (const e of events) fold(t, e);
    const text = formatRecap(t, { verbosity: 0, diff: false, color: false }).join('\n');
    expect(text).toMatch(/^ {2}wave 1: stopped +a, b \(1 failed, 1 unreachable\)$/m);
  });

  it('counts the failed and unreachable hosts of a wave that never started too (their facts failed before wave 1)', async () => {
    const { formatRecap } = await import('../../../src/output/format.ts');
    const t = newTally();
    const events: RunEvent[] = [
      { type: 'run-start', mode: 'install', check: false, hosts: ['a', 'b', 'c', 'd'], forks: 3 },
      { type: 'waves', serial: '1', maxFailPercentage: 0, waves: [['a'], ['b', 'c', 'd']] },
      { type: 'host-unreachable', host: 'c', message: 'connection refused' },
      { type: 'host-done', host: 'd', status: 'failed', changed: 0, roundTrips: 1, message: 'facts: refused' },
      { type: 'wave-start', wave: 1, of: 2, hosts: ['a'] },
      { type: 'host-done', host: 'a', status: 'failed', changed: 0, roundTrips: 2 },
      { type: 'wave-end', wave: 1, size: 1, failed: 1, skipped: 0, stopped: '1 of 1 host(s) failed, more than --max-fail-percentage 0' },
      { type: 'host-done', host: 'b', status: 'skipped', changed: 0, roundTrips: 0, message: 'not started' },
      { type: 'rollout-stopped', wave: 1, reason: 'wave 1: 1 of 1 host(s) failed', notStarted: ['b', 'c', 'd'] },
    ];
    for (const e of events) fold(t, e);
    const text = formatRecap(t, { verbosity: 0, diff: false, color: false }).join('\n');
    expect(text).toMatch(/^ {2}wave 1: stopped +a \(1 failed\)$/m);
    expect(text).toMatch(/^ {2}wave 2: not started +b, c, d \(1 failed, 1 unreachable\)$/m);
  });
});

describe('the Trento view under the recap', () => {
  it('names the hosts it did not ask about, with why: a run whose one host failed does not end on an empty section', async () => {
    const { formatRecap } = await import('../../../src/output/format.ts');
    const recap = (events: RunEvent[]) => {
      const t = newTally();
      const run: RunEvent = { type: 'run-start', mode: 'install', check: false, hosts: ['a', 'b', 'c'], forks: 3 };
      for (const e of [run, ...events]) fold(t, e);
      return formatRecap(t, { verbosity: 0, diff: false, color: false }).join('\n');
    };
    const start = { type: 'trento-view-start', url: 'https://t/prometheus', auth: 'basic' } as const;
    const done = (host: string, status: 'ok' | 'failed' | 'skipped') => ({ type: 'host-done', host, status, changed: 0, roundTrips: 1 }) as const;
    const proof: Proof = {
      query: 'up{agentID="x"}',
      exporterName: 'node_exporter',
      ok: true,
      up: 1,
      sampleAt: '2026-12-07T00:00:00.000Z',
      reason: null,
      message: '',
      waitedMs: 1000,
      limitMs: 30_000,
      scrapeIntervalMs: 15_000,
    };
    const text = recap([
      done('a', 'ok'),
      done('b', 'failed'),
      { type: 'host-unreachable', host: 'c', message: 'connection refused' },
      start,
      { type: 'trento-view-host', host: 'a', proof },
    ]);
    expect(text).toMatch(/^a +: node_exporter up=1 /m);
    expect(text).toMatch(/^not asked \(only hosts that passed their own checks are\): b \(failed\), c \(unreachable\)$/m);
    // Where Prometheus could not be asked at all, its error says so for every host.
    const failed = recap([done('a', 'ok'), start, { type: 'trento-view-error', kind: 'unreachable', message: 'connection refused' }]);
    expect(failed).toMatch(/^ERROR connection refused$/m);
    expect(failed).not.toMatch(/not asked/);
  });
});

describe('settings errors on the terminal', () => {
  const lines = async (errors: { host: string; variable: string; origin: string; message: string }[]) => {
    const { formatEvent } = await import('../../../src/output/format.ts');
    return formatEvent({ type: 'settings-errors', errors }, { verbosity: 0, diff: false, color: false }, newTally());
  };

  it('name where the value came from, or "not set" when nothing set it', async () => {
    const line = (origin: string) => lines([{ host: 'h', variable: 'agent_web_api_key', origin, message: 'm' }]);
    expect(await line('hosts.yml:3')).toEqual(['ERROR h: agent_web_api_key (from hosts.yml:3): m']);
    expect(await line('not set')).toEqual(['ERROR h: agent_web_api_key (not set): m']);
  });

  it('one line for the hosts that share an error (a group variable), naming five and counting the rest; the report keeps one per host', async () => {
    const shared = { variable: 'agent_web_api_key', origin: 'group_vars/agents.yml:2', message: 'must not be empty' };
    const fleet = Array.from({ length: 40 }, (_, i) => ({ host: `h${i}`, ...shared }));
    const own = { host: 'h7', variable: 'ansible_port', origin: 'host_vars/h7.yml:1', message: 'expected a port number' };
    expect(await lines([...fleet.slice(0, 7), own, ...fleet.slice(7)])).toEqual([
      'ERROR h0, h1, h2, h3, h4 and 35 more (40 hosts): agent_web_api_key (from group_vars/agents.yml:2): must not be empty',
      'ERROR h7: ansible_port (from host_vars/h7.yml:1): expected a port number',
    ]);
    expect(await lines(fleet.slice(0, 3))).toEqual(['ERROR h0, h1, h2: agent_web_api_key (from group_vars/agents.yml:2): must not be empty']);
    // the same variable set in two files is two errors
    expect(await lines([fleet[0]!, { ...fleet[1]!, origin: 'host_vars/h1.yml:1' }])).toHaveLength(2);
    const t = newTally();
    fold(t, { type: 'settings-errors', errors: fleet });
    expect(t.settingsErrors).toHaveLength(40);
  });
});

describe('host text on the admin terminal (issue 17)', () => {
  it('escape sequences and bidi overrides from a host are shown escaped, colours of our own kept', async () => {
    const { escapeControls, formatEvent } = await import('../../../src/output/format.ts');
    expect(escapeControls('a\x1b]0;pwned\x07b\r\u202ec\n\td')).toBe('a\\x1b]0;pwned\\x07b\\x0d\\u202ec\n\td');
    const { newTally: emptyTally } = await import('../../../src/output/tally.ts');
    const lines = formatEvent(
      { type: 'change-failed', host: 'h', id: 'x', summary: 'step', rc: 1, output: '\x1b[2J\x1b[31mfake OK\n' },
      { verbosity: 0, diff: false, color: true },
      emptyTally(),
    );
    expect(lines.join('\n')).not.toContain('\x1b[2J');
    expect(lines.join('\n')).toContain('\\x1b[2J');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for terminal control characters on purpose
    expect(lines[0]).toMatch(/^\x1b\[31m/);
    // -vv / -vvv: the script and the host's raw output (functions, built only there) are escaped too
    const evil = () => 'evil \x1b]0;pwned\x07 \x1b[2J \u202e';
    const shown = [
      ...formatEvent({ type: 'host-exec', host: 'h', script: 'apply', command: 'bash', body: evil }, { verbosity: 3, diff: false, color: false }, emptyTally()),
      ...formatEvent(
        { type: 'host-exec-result', host: 'h', script: 'apply', code: 1, output: evil },
        { verbosity: 3, diff: false, color: false },
        emptyTally(),
      ),
    ].join('\n');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for terminal control characters on purpose
    expect(shown).not.toMatch(/[\x1b\x07\u202e]/);
    expect(shown.match(/\\x1b\[2J/g)).toHaveLength(2);
  });

  it("a real run's --diff (the plan as the tally keeps it) and the rollout's reason in the recap are escaped too", async () => {
    const { formatEvent, formatRecap } = await import('../../../src/output/format.ts');
    const t = newTally();
    const evil = '\x1b[2J\x1b]0;owned\x07\u202e';
    const events: RunEvent[] = [
      { type: 'run-start', mode: 'install', check: false, hosts: ['h'], forks: 1 },
      { type: 'waves', serial: '1', maxFailPercentage: null, waves: [['h']] },
      {
        type: 'host-plan',
        host: 'h',
        changes: [{ id: 'f', summary: 'update trento.alloy', details: [`was ${evil}`], diff: `-old ${evil}\n+new` }],
        handlers: [],
      },
      { type: 'rollout-stopped', wave: 1, reason: `not proven from Trento's side: ${evil}`, notStarted: [] },
    ];
    for (const e of events) fold(t, e);
    const shown = [
      ...formatEvent({ type: 'change-applied', host: 'h', id: 'f', summary: 'update trento.alloy' }, { verbosity: 0, diff: true, color: false }, t),
      ...formatRecap(t, { verbosity: 0, diff: false, color: false }),
    ].join('\n');
    expect(shown).toContain('-old \\x1b[2J');
    expect(shown).toContain("the rollout stopped: not proven from Trento's side: \\x1b[2J");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for terminal control characters on purpose
    expect(shown).not.toMatch(/[\x1b\x07\u202e]/);
  });

  it('a secret with a control character is masked as the terminal shows it (escaped), as in the reports', async () => {
    const { escapeControls } = await import('../../../src/output/format.ts');
    const secret = 'pass\x1bword-1';
    expect(secretSet([secret]).redact(`shown: ${escapeControls(`x ${secret} y`)}`)).toBe('shown: x ******** y');
  });
});

describe('exec events: the script and its output are rendered only where shown', () => {
  it('no consumer of the event stream calls body() below -vv nor output() below -vvv; where shown, once each', async () => {
    const { createSink } = await import('../../../src/output/sink.ts');
    const { PassThrough } = await import('node:stream');
    for (const verbosity of [0, 1, 2, 3]) {
      const out = new PassThrough();
      let written = '';
      out.on('data', (c: Buffer) => (written += c.toString()));
      const sink = await createSink({ verbosity, diff: true, color: false, live: false, out });
      const calls = { body: 0, output: 0 };
      const counted = (key: keyof typeof calls, text: string) => () => {
        calls[key]++;
        return text;
      };
      sink.emit({ type: 'host-exec', host: 'h', script: 'facts', command: '/bin/bash < script', body: counted('body', 'echo the-script') });
      sink.emit({ type: 'host-exec-result', host: 'h', script: 'facts', code: 0, output: counted('output', 'the-output') });
      sink.recap();
      expect(calls).toEqual({ body: verbosity >= 2 ? 1 : 0, output: verbosity >= 3 ? 1 : 0 });
      expect([written.includes('echo the-script'), written.includes('the-output')]).toEqual([verbosity >= 2, verbosity >= 3]);
    }
  });
});

describe('a step that found part of its work done already (packages installed meanwhile): its line and the reports say so', () => {
  it("the CHANGED line and the JSON report (the JUnit one reads the same tally) carry the step's note; the marker is read", async () => {
    const { formatEvent } = await import('../../../src/output/format.ts');
    const { jsonReportText } = await import('../../../src/output/json-report.ts');
    const note = 'trento-agent found installed meanwhile, not installed by this run';
    expect(parseMarker(`@@tp note 0 x${Buffer.from(note).toString('base64')}`)).toEqual({ kind: 'note', step: 0, note });
    const o = { verbosity: 0, diff: false, color: false };
    const t = newTally();
    const summary = `install alloy, trento-agent; ${note}`;
    const events: RunEvent[] = [
      { type: 'run-start', mode: 'install', check: false, hosts: ['h'], forks: 1 },
      { type: 'host-plan', host: 'h', changes: [{ id: 'packages:install', summary: 'install alloy, trento-agent' }], handlers: [] },
      { type: 'change-applied', host: 'h', id: 'packages:install', summary },
      { type: 'host-done', host: 'h', status: 'changed', changed: 1, roundTrips: 2 },
    ];
    const lines: string[] = [];
    for (const e of events) {
      lines.push(...formatEvent(e, o, t));
      fold(t, e, 0);
    }
    expect(lines).toContain(`h | CHANGED | ${summary}`);
    expect(JSON.parse(jsonReportText(t, 10, (s) => s)).hosts[0].changes).toEqual([{ id: 'packages:install', summary, applied: true }]);
  });
});

describe('a host whose only drift is a restart an earlier run left pending (--check)', () => {
  it('its line, the recap, the JSON and the exit code all say it would change', async () => {
    const { formatEvent, formatRecap } = await import('../../../src/output/format.ts');
    const { jsonReportText } = await import('../../../src/output/json-report.ts');
    const o = { verbosity: 0, diff: false, color: false };
    const t = newTally();
    const events: RunEvent[] = [
      { type: 'run-start', mode: 'install', check: true, hosts: ['h3'], forks: 5 },
      { type: 'host-plan', host: 'h3', changes: [], handlers: ['restart trento-agent (pending from an earlier run)'] },
      { type: 'host-done', host: 'h3', status: 'changed', changed: 1, roundTrips: 1 },
    ];
    const lines: string[] = [];
    for (const e of events) {
      lines.push(...formatEvent(e, o, t));
      fold(t, e, 0);
    }
    expect(lines).toContain('h3 | WOULD RUN | restart trento-agent (pending from an earlier run)');
    expect(lines.join('\n')).not.toContain('nothing to change');
    expect(formatRecap(t, o).join('\n')).toMatch(/h3 +: ok=1 +changed=1 /);
    const host = JSON.parse(jsonReportText(t, 10, (s) => s)).hosts[0];
    expect(host).toMatchObject({ status: 'changed', changes: [], handlers: ['restart trento-agent (pending from an earlier run)'] });
    expect(exitCode(t, { detailed: true })).toBe(2);
  });
});
