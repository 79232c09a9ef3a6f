// The installable tool, as an admin gets it: `npm pack`, `npm install -g` into a prefix of its
// own, then `trento-provision` run from the admin's own folder (its own ansible.cfg, inventory
// and key, relative paths) against the lab, with no tsx and no repository in reach.
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabInfo } from '../lab/inventory.ts';
import { repoRoot } from '../lab/paths.ts';
import { assertReportMatchesSchema } from '../support/report-schema.ts';
import { freshLab, hostsBy } from './helpers.ts';

const execFileP = promisify(execFile);

let info: LabInfo;
let work: string;
let prefix: string;
let admin: string;
let bin: string;
let tarball: string;

/** Only Node and the system: no repository, no node_modules/.bin, no tsx on PATH. */
function adminEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: [join(prefix, 'bin'), dirname(process.execPath), '/usr/bin', '/bin'].join(':'),
    HOME: admin,
    NO_COLOR: '1',
    ...extra,
  };
  return env;
}

function runIn(cwd: string, command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

beforeAll(async () => {
  // Clean hosts, as every lab file starts: a file before this one on the same worker may have
  // left them otherwise (migration.test.ts turns SLES 15 hosts into SLES 16 ones), and the
  // damaged-install case needs the SLES 15 host the lab's record says it has.
  info = await freshLab();
  work = await mkdtemp(join(tmpdir(), 'tp-install-'));
  prefix = join(work, 'prefix');
  admin = join(work, 'admin-site');
  // prepack builds dist/ with tsc; the tarball is what `npm publish` would upload.
  const packed = await execFileP('npm', ['pack', '--json', '--pack-destination', work], { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 });
  tarball = join(work, (JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string }[])[0]!.filename);
  // As at an air-gapped site: no registry (an address nothing listens on) and an empty npm cache,
  // so the install can only take what the tarball carries (bundleDependencies).
  const noRegistry = ['--offline', '--registry', 'http://127.0.0.1:9/', '--cache', join(work, 'empty-npm-cache')];
  await execFileP('npm', ['install', '-g', '--prefix', prefix, ...noRegistry, '--no-audit', '--no-fund', tarball], {
    cwd: work,
    maxBuffer: 64 * 1024 * 1024,
  });
  bin = join(prefix, 'bin', 'trento-provision');

  // The admin's own folder: ansible.cfg, an INI inventory, group_vars, a key, all relative.
  const { pull, push } = hostsBy(info);
  const hosts = [pull[0]!, push[0]!];
  await mkdir(join(admin, 'group_vars'), { recursive: true });
  await mkdir(join(admin, 'keys'));
  copyFileSync(info.keyFile, join(admin, 'keys', 'id_lab'));
  await chmod(join(admin, 'keys', 'id_lab'), 0o600);
  await writeFile(join(admin, 'ansible.cfg'), '[defaults]\ninventory = site-hosts\nforks = 2\n');
  await writeFile(
    join(admin, 'site-hosts'),
    ['[agents]', ...hosts.map((h) => `${h.name} ansible_host=${h.address} ansible_port=${h.port} ansible_user=root`), ''].join('\n'),
  );
  // The lab's own settings for every host (server URLs, auth, known_hosts).
  // This worker's lab inventory (the repository's inventories/lab only for worker 1's lab).
  const labVars = parse(readFileSync(join(info.inventoryDir, 'group_vars', 'all.yml'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(admin, 'group_vars', 'all.yml'), stringify(labVars));
}, 600_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('npm pack + npm install -g', () => {
  it('installs a trento-provision command: compiled JavaScript, node shebang, executable, role files beside the code, no tsx', () => {
    const target = realpathSync(bin);
    expect(readFileSync(target, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    expect(statSync(target).mode & 0o111).toBe(0o111);
    const pkg = join(prefix, 'lib', 'node_modules', 'trento-provision');
    const shipped = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? shipped(join(dir, e.name)) : [join(dir, e.name)]));
    expect(existsSync(join(pkg, 'dist', 'roles', 'alloy', 'templates', 'trento.alloy.ejs'))).toBe(true);
    expect(existsSync(join(pkg, 'dist', 'roles', 'trento_agent', 'defaults', 'main.yml'))).toBe(true);
    // Every non-TypeScript file the code reads beside itself is there, in the same place.
    for (const tree of ['src', 'roles']) {
      const wanted = shipped(join(repoRoot, tree)).filter((f) => /\.(yml|ejs|sh)$/.test(f));
      expect(wanted.length).toBeGreaterThan(0);
      for (const f of wanted) expect(existsSync(join(pkg, 'dist', f.slice(repoRoot.length + 1))), f).toBe(true);
    }
    expect(existsSync(join(pkg, 'docs', 'report.schema.json'))).toBe(true);
    expect(existsSync(join(pkg, 'node_modules', 'tsx'))).toBe(false);
    // No module claims to be run by tsx, which the package does not carry.
    for (const f of shipped(join(pkg, 'dist'))) if (f.endsWith('.js')) expect(readFileSync(f, 'utf8').startsWith('#!'), f).toBe(false);
    expect(shipped(join(pkg, 'dist')).filter((f) => f.endsWith('.ts'))).toEqual([]);
  });

  it("carries its dependencies at the lock's versions, the ones the suite ran (installed with no registry)", () => {
    const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; dev?: boolean }> };
    const pkg = join(prefix, 'lib', 'node_modules', 'trento-provision');
    const runtime = Object.entries(lock.packages).filter(([path, entry]) => path.startsWith('node_modules/') && !entry.dev);
    expect(runtime.length).toBeGreaterThan(20);
    for (const [path, entry] of runtime) {
      const installed = join(pkg, path, 'package.json');
      // An optional dependency the lock names for another platform is neither bundled nor needed.
      if (!existsSync(installed) && !existsSync(join(repoRoot, path))) continue;
      expect((JSON.parse(readFileSync(installed, 'utf8')) as { version: string }).version, path).toBe(entry.version);
    }
  });

  it("a damaged install (a role's template missing) fails only the hosts that need it, as the toolkit's fault naming the file", async () => {
    const template = join(prefix, 'lib', 'node_modules', 'trento-provision', 'dist', 'roles', 'alloy', 'templates', 'trento.alloy.ejs');
    await rename(template, `${template}.away`);
    let r: { code: number; stdout: string; stderr: string };
    try {
      r = await runIn(admin, 'trento-provision', ['--check', '--private-key', 'keys/id_lab', '--json', 'damaged.json'], adminEnv());
    } finally {
      await rename(`${template}.away`, template);
    }
    const report = JSON.parse(await readFile(join(admin, 'damaged.json'), 'utf8')) as { hosts: { host: string; status: string; message: string | null }[] };
    assertReportMatchesSchema(report, 'of the damaged install');
    const { pull, push } = hostsBy(info);
    const byName = new Map(report.hosts.map((h) => [h.host, h]));
    // The SLES 16 host renders trento.alloy: it fails alone, with the file and where it failed.
    expect(byName.get(push[0]!.name)?.status, r.stdout).toBe('failed');
    expect(byName.get(push[0]!.name)?.message).toMatch(/^cannot plan this host, a fault of the toolkit's \(please report it\): .*trento\.alloy\.ejs/);
    // The SLES 15 host does not: it is planned as on an intact install.
    const planned = byName.get(pull[0]!.name);
    expect(['ok', 'changed'], `${planned?.status}: ${planned?.message}\n${r.stdout.slice(-3000)}`).toContain(planned?.status);
    expect(r.code).toBe(2);
  });

  it("--version names the package, its version and the admin folder's ansible.cfg", async () => {
    const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
    for (const flag of ['--version', '-V']) {
      const r = await runIn(admin, 'trento-provision', [flag], adminEnv());
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`trento-provision ${version}`);
      expect(r.stdout).toContain(`config file = ${join(admin, 'ansible.cfg')}`);
    }
  });

  it("trento-provision-inventory (npm run inventory's command) lists the admin folder's inventory as ansible-inventory does", async () => {
    const r = await runIn(admin, 'trento-provision-inventory', ['-i', 'site-hosts', '--graph'], adminEnv());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { pull, push } = hostsBy(info);
    expect(r.stdout).toBe(`@all:\n  |--@ungrouped:\n  |--@agents:\n  |  |--${pull[0]!.name}\n  |  |--${push[0]!.name}\n`);
  });

  it('npx --package TARBALL trento-provision runs it too, from the admin folder', async () => {
    const r = await runIn(admin, 'npx', ['--yes', '--prefer-offline', '--package', tarball, 'trento-provision', '--version'], {
      ...process.env,
      NO_COLOR: '1',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`config file = ${join(admin, 'ansible.cfg')}`);
  });

  it('--check from the admin folder: its ansible.cfg, its inventory, its relative key; every host planned, nothing changed', async () => {
    const r = await runIn(admin, 'trento-provision', ['--check', '--diff', '-v', '--private-key', 'keys/id_lab', '--json', 'report.json'], adminEnv());
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`Using ${join(admin, 'ansible.cfg')} as config file`);
    expect(r.code).toBe(0);
    const report = JSON.parse(await readFile(join(admin, 'report.json'), 'utf8')) as { check: boolean; hosts: { host: string; status: string }[] };
    assertReportMatchesSchema(report, 'of the installed command');
    expect(report.check).toBe(true);
    const { pull, push } = hostsBy(info);
    expect(report.hosts.map((h) => h.host)).toEqual([pull[0]!.name, push[0]!.name]);
    for (const h of report.hosts) expect(['ok', 'changed']).toContain(h.status);
    expect(r.stdout).toMatch(/WOULD CHANGE|nothing to change/);
  });

  it('a relative -i that does not exist in the admin folder is an error naming it, not a fallback', async () => {
    const r = await runIn(admin, 'trento-provision', ['-i', './no-such-hosts', '--list-hosts'], adminEnv());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`inventory ${join(admin, 'no-such-hosts')} does not exist (-i ./no-such-hosts, from ${admin})`);
  });
});

describe('npm --prefix REPO run provision from the admin folder (INIT_CWD)', () => {
  it('reads ./ansible.cfg, -i ./site-hosts and --limit @file from where the admin stands, not the repository', async () => {
    await writeFile(join(admin, 'only-pull'), `${hostsBy(info).pull[0]!.name}\n`);
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', HOME: admin };
    delete env.INIT_CWD;
    delete env.ANSIBLE_CONFIG;
    const r = await runIn(
      admin,
      'npm',
      ['--prefix', repoRoot, 'run', '-s', 'provision', '--', '-i', './site-hosts', '--limit', '@only-pull', '--list-hosts', '-v'],
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Using ${join(admin, 'ansible.cfg')} as config file`);
    expect(r.stdout).toContain('hosts (1):');
    expect(r.stdout).toContain(hostsBy(info).pull[0]!.name);
    // A bare name that is no path in the admin folder still finds inventories/NAME in the repository.
    const named = await runIn(admin, 'npm', ['--prefix', repoRoot, 'run', '-s', 'provision', '--', '-i', 'example', '--list-hosts'], env);
    expect(named.code).toBe(0);
    expect(named.stdout).toContain('hana01');
  });
});
