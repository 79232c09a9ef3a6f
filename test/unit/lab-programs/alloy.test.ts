// The lab's Alloy stand-in (test/lab/host/alloy), run directly on this machine on a free port.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROOT, describeWith } from '../../support/requires.ts';
import { freePort } from '../../support/ports.ts';

const here = dirname(fileURLToPath(import.meta.url));
const ALLOY = resolve(here, '../../lab/host/alloy');
const GOLDEN = resolve(here, '../../fixtures/trento-agent/bearer-ca.golden');

const BASE = `// base config
logging {
  level = "info"
}

prometheus.exporter.unix "default" {
  include_exporter_metrics = true
  disable_collectors       = ["mdadm"]
}
`;

const FIXTURES = resolve(here, '../../fixtures/trento-agent');
const GOLDENS = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.golden'))
  .sort()
  .map((f) => join(FIXTURES, f));

/** The invalid-config corpus: each file names the message Alloy gives and who refuses it
 *  ("validate, reload", or "reload" for the components' Validate() rules, which real
 *  `alloy validate` does not run). */
const CORPUS_DIR = resolve(here, 'alloy-invalid');
interface Invalid {
  name: string;
  file: string;
  expect: string;
  byValidate: boolean;
}
const CORPUS: Invalid[] = readdirSync(CORPUS_DIR)
  .filter((f) => f.endsWith('.alloy'))
  .sort()
  .map((f) => {
    const text = readFileSync(join(CORPUS_DIR, f), 'utf8');
    const expectLine = /^\/\/ expect: (.+)$/m.exec(text);
    const byLine = /^\/\/ refused by: (.+)$/m.exec(text);
    if (!expectLine || !byLine) throw new Error(`${f}: needs "// expect:" and "// refused by:" lines`);
    return { name: f, file: join(CORPUS_DIR, f), expect: expectLine[1]!, byValidate: byLine[1]!.includes('validate') };
  });

let dir = '';
const children: ChildProcess[] = [];

function runAlloy(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(ALLOY, args, { encoding: 'utf8', timeout: 15_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

interface Running {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  exited: Promise<number | null>;
}

async function startAlloy(config: string, argv: string[] = [ALLOY]): Promise<Running> {
  const port = await freePort();
  const [cmd, ...pre] = argv;
  const child = spawn(cmd!, [...pre, 'run', `--server.http.listen-addr=127.0.0.1:${port}`, `--storage.path=${join(dir, 'data')}`, config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return { child, port, stderr: () => err, exited };
}

async function http(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: r.status, body: await r.text() };
}

async function until<T>(f: () => Promise<T | undefined>, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch {
      /* not up yet */
    }
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface LabConfig {
  files: string[];
  components: string[];
  reloads: number;
  lastError: string | null;
  loadedAt: string;
}

/** A block of the lab Alloy's graph (/-/lab/config/blocks). */
interface LabBlock {
  name: string;
  attrs: Record<string, unknown>;
  blocks: LabBlock[];
}

async function labConfig(port: number): Promise<LabConfig> {
  return JSON.parse((await http(port, '/-/lab/config')).body) as LabConfig;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lab-alloy-'));
  chmodSync(dir, 0o755);
});

/**
 * The goldens name the agent's certificate paths (/etc/trento/certs/ca.crt, client.crt,
 * client.key), which Alloy reads when it builds the component: here they are real files in the
 * test's folder, a CA and a client pair made by openssl.
 */
function withCerts(text: string): string {
  const certs = join(dir, 'certs');
  mkdirSync(certs, { recursive: true });
  copyFileSync(resolve(here, '../../fixtures/official-playbook/server-ca.pem'), join(certs, 'ca.crt'));
  const pair = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=lab-client', '-days', '1'].concat([
      '-keyout',
      join(certs, 'client.key'),
      '-out',
      join(certs, 'client.crt'),
    ]),
    { encoding: 'utf8' },
  );
  if (pair.status !== 0) throw new Error(`openssl: ${pair.stderr}`);
  return text.replaceAll('/etc/trento/certs/', `${certs}/`);
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('alloy stand-in: run', () => {
  it('loads every *.alloy of a directory, rejects a duplicate component on reload and keeps the old config, reloads on SIGHUP', async () => {
    const conf = join(dir, 'conf');
    mkdirSync(join(conf, 'sub'), { recursive: true });
    writeFileSync(join(conf, 'config.alloy'), BASE);
    writeFileSync(join(conf, 'trento.alloy'), withCerts(readFileSync(GOLDEN, 'utf8')));
    writeFileSync(join(conf, 'notes.txt'), 'not alloy {');
    writeFileSync(join(conf, 'sub', 'ignored.alloy'), 'broken {');
    const a = await startAlloy(conf);
    const ready = await until(async () => {
      const r = await http(a.port, '/-/ready');
      return r.status === 200 ? r : undefined;
    });
    expect(ready.body).toBe('Alloy is ready.\n');
    const first = await labConfig(a.port);
    expect(first.files).toEqual([join(conf, 'config.alloy'), join(conf, 'trento.alloy')]);
    expect(first.components).toEqual([
      'prometheus.exporter.unix.default',
      'prometheus.exporter.unix.trento_system',
      'discovery.relabel.trento_system',
      'prometheus.scrape.trento_system',
      'prometheus.remote_write.trento',
    ]);
    expect(first.reloads).toBe(0);
    expect(first.lastError).toBeNull();
    // The UI API's one-component route, as Alloy's: 200 for a component it runs, 404 otherwise.
    const one = await http(a.port, '/api/v0/web/components/prometheus.remote_write.trento');
    expect(one.status).toBe(200);
    expect(JSON.parse(one.body)).toMatchObject({ localID: 'prometheus.remote_write.trento' });
    expect((await http(a.port, '/api/v0/web/components/prometheus.remote_write.other')).status).toBe(404);

    // Duplicate component across two files: 400 naming both files, previous config kept.
    writeFileSync(join(conf, 'zz-extra.alloy'), 'discovery.relabel "trento_system" {\n  targets = []\n}\n');
    const bad = await http(a.port, '/-/reload', 'POST');
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('discovery.relabel.trento_system');
    expect(bad.body).toContain(join(conf, 'trento.alloy'));
    expect(bad.body).toContain(join(conf, 'zz-extra.alloy'));
    const kept = await labConfig(a.port);
    expect(kept.files).toEqual(first.files);
    expect(kept.loadedAt).toBe(first.loadedAt);
    expect(kept.lastError).toContain('already declared');
    expect((await http(a.port, '/-/ready')).status).toBe(200);

    // Fix it and reload by SIGHUP.
    writeFileSync(join(conf, 'zz-extra.alloy'), 'discovery.relabel "other" {\n  targets = []\n}\n');
    a.child.kill('SIGHUP');
    const after = await until(async () => {
      const c = await labConfig(a.port);
      return c.reloads === 1 ? c : undefined;
    });
    expect(after.components).toContain('discovery.relabel.other');
    expect(after.lastError).toBeNull();
    expect(after.files).toContain(join(conf, 'zz-extra.alloy'));

    const ok = await http(a.port, '/-/reload', 'POST');
    expect(ok).toEqual({ status: 200, body: 'config reloaded\n' });
    expect(a.stderr()).toMatch(/level=error msg="failed to reload config"/);

    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
  });

  it("refuses every corpus config on reload with 400 and Alloy's message: one that does not load keeps the running graph, one that fails only in evaluation is installed all the same (as Alloy 1.9 does), its failing components not built; accepts every golden but one", async () => {
    const conf = join(dir, 'conf');
    mkdirSync(conf);
    const target = join(conf, 'config.alloy');
    writeFileSync(target, BASE);
    const a = await startAlloy(conf);
    await until(async () => ((await http(a.port, '/-/ready')).status === 200 ? true : undefined));
    for (const c of CORPUS) {
      writeFileSync(target, BASE);
      expect((await http(a.port, '/-/reload', 'POST')).status).toBe(200);
      const before = await labConfig(a.port);
      writeFileSync(target, readFileSync(c.file));
      const r = await http(a.port, '/-/reload', 'POST');
      expect({ name: c.name, status: r.status }).toEqual({ name: c.name, status: 400 });
      expect(r.body).toContain(`${target}:`);
      expect(r.body).toContain(c.expect);
      const after = await labConfig(a.port);
      // The stand-in's validate refusals are its load errors: Alloy keeps its graph whole then.
      // A Validate() rule fails in evaluation: the new graph is installed, the component unbuilt.
      expect({ name: c.name, kept: after.loadedAt === before.loadedAt }).toEqual({ name: c.name, kept: c.byValidate });
      if (!c.byValidate) {
        const listed = JSON.parse((await http(a.port, '/api/v0/web/components')).body) as { localID: string; health: { state: string } }[];
        expect(
          listed.some((x) => x.health.state === 'unhealthy'),
          c.name,
        ).toBe(true);
      }
    }
    expect((await http(a.port, '/-/ready')).status).toBe(200);

    // Trento's own configs load, except a scrape interval below the default 10 s scrape
    // timeout: real Alloy's prometheus.scrape refuses that (scrape_timeout > scrape_interval).
    for (const g of GOLDENS) {
      writeFileSync(target, withCerts(readFileSync(g, 'utf8')));
      const r = await http(a.port, '/-/reload', 'POST');
      if (g.endsWith('interval-500ms.golden')) {
        expect(r.status).toBe(400);
        expect(r.body).toContain('scrape_timeout (10s) greater than scrape_interval (500ms)');
      } else {
        expect({ g, ...r }).toEqual({ g, status: 200, body: 'config reloaded\n' });
      }
    }
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
  });

  it('refuses on reload a tls_config file it cannot read or use, as building the component does (alloy validate reads none)', async () => {
    const target = join(dir, 'config.alloy');
    const good = withCerts(readFileSync(GOLDEN, 'utf8'));
    writeFileSync(target, good);
    const a = await startAlloy(target);
    await until(async () => ((await http(a.port, '/-/ready')).status === 200 ? true : undefined));
    const first = await labConfig(a.port);
    const missing = join(dir, 'certs', 'missing.crt');
    const notPem = join(dir, 'certs', 'not-a-cert.crt');
    writeFileSync(notPem, 'not a certificate\n');
    // A certificate cut short (a copy that stopped midway): its PEM markers are there, it does not parse.
    const ca = readFileSync(join(dir, 'certs', 'ca.crt'), 'utf8');
    const lines = ca.trim().split('\n');
    const truncated = join(dir, 'certs', 'truncated.crt');
    writeFileSync(truncated, [...lines.slice(0, Math.ceil(lines.length / 2)), lines.at(-1)!, ''].join('\n'));
    // A bundle whose first certificate is cut short and whose second is whole: Go takes it.
    const cutThenWhole = join(dir, 'certs', 'cut-then-whole.crt');
    writeFileSync(cutThenWhole, `${lines.slice(0, Math.ceil(lines.length / 2)).join('\n')}\n${ca}`);
    writeFileSync(target, good.replace(join(dir, 'certs', 'ca.crt'), cutThenWhole));
    expect(await http(a.port, '/-/reload', 'POST')).toEqual({ status: 200, body: 'config reloaded\n' });
    writeFileSync(target, good);
    expect((await http(a.port, '/-/reload', 'POST')).status).toBe(200);
    const reloaded = await labConfig(a.port);
    // The CA file each remote_write endpoint runs with (the lab's view of the graph).
    const runningCa = async () =>
      (JSON.parse((await http(a.port, '/-/lab/config/blocks')).body) as LabBlock[])
        .filter((b) => b.name === 'prometheus.remote_write')
        .flatMap((b) =>
          b.blocks.filter((e) => e.name === 'endpoint').flatMap((e) => e.blocks.filter((t) => t.name === 'tls_config').map((t) => t.attrs.ca_file)),
        );
    const goodCa = await runningCa();
    expect(goodCa).toEqual([join(dir, 'certs', 'ca.crt')]);
    for (const [path, message] of [
      [missing, `building component: unable to load specified CA cert ${missing}: open ${missing}: no such file or directory`],
      [notPem, `building component: unable to use specified CA cert ${notPem}`],
      [truncated, `building component: unable to use specified CA cert ${truncated}`],
    ] as const) {
      writeFileSync(target, good.replace(join(dir, 'certs', 'ca.crt'), path));
      expect(runAlloy(['validate', target]).code).toBe(0);
      const r = await http(a.port, '/-/reload', 'POST');
      expect(r.status).toBe(400);
      expect(r.body).toContain(`${target}:`);
      expect(r.body).toContain(message);
      // the component it could not build runs on its old arguments (Alloy 1.9 installs the rest)
      expect(await runningCa()).toEqual(goodCa);
    }
    expect(reloaded.loadedAt).not.toBe(first.loadedAt);
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
  });

  it('exits non-zero at start on unbalanced braces, with the error on stderr', async () => {
    const file = join(dir, 'config.alloy');
    writeFileSync(file, 'logging {\n  level = "info"\n\nprometheus.exporter.unix "x" {\n}\n');
    const a = await startAlloy(file);
    expect(await a.exited).not.toBe(0);
    expect(a.stderr()).toContain(file);
    expect(a.stderr()).toMatch(/expected }/);
  });

  it('exits non-zero when CONFIG does not exist', async () => {
    const a = await startAlloy(join(dir, 'missing.alloy'));
    expect(await a.exited).toBe(1);
    expect(a.stderr()).toContain(`open ${join(dir, 'missing.alloy')}: no such file or directory`);
  });
});

describe('alloy stand-in: validate', () => {
  it('accepts every golden trento.alloy and the base config', () => {
    expect(GOLDENS.length).toBeGreaterThanOrEqual(13);
    for (const file of GOLDENS) {
      expect({ file, ...runAlloy(['validate', file]) }).toMatchObject({ file, code: 0, stderr: '' });
    }
    writeFileSync(join(dir, 'base.alloy'), BASE);
    expect(runAlloy(['validate', join(dir, 'base.alloy')]).code).toBe(0);
  });

  it.each([
    ['unbalanced braces', 'logging {\n level = "info"\n', /expected }/],
    ['extra closing brace', 'logging {\n level = "info"\n}\n}\n', /got '}'/],
    ['bad escape', 'logging {\n level = "in\\qfo"\n}\n', /unknown escape sequence \\q/],
    ['unescaped quote', 'prometheus.remote_write "x" {\n endpoint {\n  url = "http://a"\n  bearer_token = "ab"c"\n }\n}\n', /expected newline|not terminated/],
    ['unterminated comment', '/* open\nlogging {}\n', /comment not terminated/],
    ['unbalanced list', 'prometheus.exporter.unix "a" {\n set_collectors = ["cpu", "meminfo"\n}\n', /missing ','|expected ]/],
    ['duplicate in one file', 'prometheus.exporter.unix "a" {\n}\nprometheus.exporter.unix "a" {\n}\n', /already declared/],
    ['reference to a missing component', 'prometheus.scrape "s" {\n targets = prometheus.exporter.unix.nope.targets\n forward_to = []\n}\n', /does not exist/],
  ])('rejects %s', (_name, text, error) => {
    const file = join(dir, 'bad.alloy');
    writeFileSync(file, text);
    const r = runAlloy(['validate', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(error);
    expect(r.stderr).toContain(file);
  });

  it('has a corpus of at least 30 configs that `alloy validate` refuses, and some that only a reload refuses', () => {
    expect(CORPUS.filter((c) => c.byValidate).length).toBeGreaterThanOrEqual(30);
    expect(CORPUS.filter((c) => !c.byValidate).length).toBeGreaterThanOrEqual(5);
  });

  it("an illegal character that does not print is named as Go's %#U names it, without a quoted character", () => {
    const r = runAlloy(['validate', join(CORPUS_DIR, 'control-character.alloy')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/illegal character U\+0007$/m);
  });

  it("a byte order mark as the very first character is ignored, as by Alloy's scanner (anywhere else it is refused: bom-mid-file.alloy)", () => {
    const file = join(dir, 'bom.alloy');
    writeFileSync(file, `\ufeff${BASE}`);
    expect(runAlloy(['validate', file])).toMatchObject({ code: 0 });
  });

  it.each(CORPUS.map((c) => [c.name, c] as const))('alloy validate on %s', (_name, c) => {
    const r = runAlloy(['validate', c.file]);
    if (c.byValidate) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`Error: ${c.file}:`);
      expect(r.stderr).toContain(c.expect);
    } else {
      // Real `alloy validate` only type-checks; Validate() rules run when Alloy evaluates.
      expect(r).toMatchObject({ code: 0, stderr: '' });
    }
  });

  it('accepts unknown collector names, as Alloy does (node_exporter drops them silently)', () => {
    const file = join(dir, 'collectors.alloy');
    writeFileSync(file, 'prometheus.exporter.unix "x" {\n  set_collectors = ["cpu", "no_such_collector"]\n  enable_collectors = ["nor_this"]\n}\n');
    expect(runAlloy(['validate', file])).toMatchObject({ code: 0, stderr: '' });
  });

  it('accepts Go durations in all their forms and escapes inside their ranges', () => {
    const file = join(dir, 'ok.alloy');
    writeFileSync(
      file,
      [
        'prometheus.scrape "a" {',
        '  targets = []',
        '  forward_to = []',
        '  scrape_interval = "1h2m3.5s"',
        '  scrape_timeout = "1.5s"',
        '  job_name = "\\101\\x42\\u0043\\U0001F600\\377"',
        '}',
        'prometheus.remote_write "b" {',
        '  endpoint {',
        '    url = "http://x"',
        '    remote_timeout = "250ms"',
        '    queue_config {',
        '      min_backoff = ".5s"',
        '    }',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    expect(runAlloy(['validate', file])).toMatchObject({ code: 0, stderr: '' });
  });

  it('accepts the escapes Alloy knows and comments of both kinds', () => {
    const file = join(dir, 'ok.alloy');
    writeFileSync(file, '/* block\n comment */ prometheus.exporter.unix "x" { // trailing\n  procfs_path = "a\\"b\\\\c\\n\\t"\n}\n');
    expect(runAlloy(['validate', file])).toMatchObject({ code: 0, stderr: '' });
  });

  it('validates a directory and names both files of a duplicate', () => {
    const conf = join(dir, 'conf');
    mkdirSync(conf);
    copyFileSync(GOLDEN, join(conf, 'a.alloy'));
    expect(runAlloy(['validate', conf]).code).toBe(0);
    copyFileSync(GOLDEN, join(conf, 'b.alloy'));
    const r = runAlloy(['validate', conf]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(join(conf, 'a.alloy'));
    expect(r.stderr).toContain(join(conf, 'b.alloy'));
    unlinkSync(join(conf, 'b.alloy'));
  });

  it("refuses a flag Alloy v1.9 does not have, in run and in validate, and takes Alloy's own names", () => {
    const file = join(dir, 'config.alloy');
    writeFileSync(file, BASE);
    for (const args of [
      ['validate', '--no-such-flag', file],
      ['validate', '--storage.path=/tmp', file],
      ['run', '--disable-support-bundle', file],
      ['run', '--enable-community-components', file],
    ]) {
      const r = runAlloy(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/^Error: unknown flag: --[a-z.-]+\n$/);
    }
    expect(runAlloy(['validate', '--stability.level=generally-available', '--feature.community-components.enabled', file]).code).toBe(0);
  });

  it('prints its version', () => {
    expect(runAlloy(['--version']).stdout).toBe('alloy, version v1.9.2 (lab stand-in)\n');
    expect(runAlloy(['-v']).stdout).toBe('alloy, version v1.9.2 (lab stand-in)\n');
  });
});

describeWith(ROOT, 'alloy stand-in: file permissions of the user it runs as', () => {
  it('reports a file it cannot read as invalid (validate and run)', async () => {
    // A copy of the program that user nobody can execute, and a root-only config file.
    const prog = join(dir, 'alloy');
    writeFileSync(prog, readFileSync(ALLOY));
    chmodSync(prog, 0o755);
    const conf = join(dir, 'conf');
    mkdirSync(conf, { mode: 0o755 });
    chmodSync(conf, 0o755);
    writeFileSync(join(conf, 'config.alloy'), BASE);
    chmodSync(join(conf, 'config.alloy'), 0o644);
    writeFileSync(join(conf, 'trento.alloy'), readFileSync(GOLDEN));
    chmodSync(join(conf, 'trento.alloy'), 0o600);
    mkdirSync(join(dir, 'data'), { mode: 0o777 });
    chmodSync(join(dir, 'data'), 0o777);

    const asNobody = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
    const v = spawnSync(asNobody[0]!, [...asNobody.slice(1), prog, 'validate', conf], { encoding: 'utf8' });
    expect(v.status).toBe(1);
    expect(v.stderr).toContain(`open ${join(conf, 'trento.alloy')}: permission denied`);
    // root reads it
    expect(runAlloy(['validate', conf]).code).toBe(0);

    const a = await startAlloy(conf, [...asNobody, prog]);
    expect(await a.exited).toBe(1);
    expect(a.stderr()).toContain('permission denied');
    expect(a.stderr()).toContain(join(conf, 'trento.alloy'));
  });
});
