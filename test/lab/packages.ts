// The lab's RPM repositories: built by test/lab/packages/build.sh OUT (another part of the lab)
// into a folder named after a hash of its inputs, so an unchanged set is built once, and a
// rebuild never pulls the floor from under running hosts (they bind the old folder read-only).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LabPaths } from './paths.ts';
import { hostProgramsDir, packagesSrcDir } from './paths.ts';
import { run } from './proc.ts';
import type { Channel } from './products.ts';

export const CHANNELS: readonly Channel[] = ['sle15', 'sle15sp7', 'sle16'];

function hashTree(h: ReturnType<typeof createHash>, path: string): void {
  if (!existsSync(path)) {
    h.update(`missing:${path}\n`);
    return;
  }
  const st = statSync(path);
  if (st.isDirectory()) {
    for (const e of readdirSync(path).sort()) hashTree(h, join(path, e));
  } else {
    h.update(`${path}\n`);
    h.update(readFileSync(path));
  }
}

export function packagesStamp(): string {
  const h = createHash('sha256');
  hashTree(h, packagesSrcDir);
  hashTree(h, buildScript());
  for (const f of ['alloy', 'trento-agent']) hashTree(h, join(hostProgramsDir, f));
  // node_exporter is Debian's binary: a new Debian package means new RPMs.
  for (const f of ['/usr/bin/prometheus-node-exporter']) {
    try {
      const st = statSync(f);
      h.update(`${f}:${st.size}:${st.mtimeMs}\n`);
    } catch {
      h.update(`${f}:missing\n`);
    }
  }
  return h.digest('hex').slice(0, 16);
}

export function buildScript(): string {
  return process.env.LAB_BUILD_SH ?? join(packagesSrcDir, 'build.sh');
}

/** Build (or reuse) the package set; returns its folder (with rpms/ and repos/<channel>/). */
export async function ensurePackages(paths: LabPaths, log: (s: string) => void): Promise<string> {
  const stamp = packagesStamp();
  const out = join(paths.packagesDir, stamp);
  if (existsSync(join(out, '.complete'))) return out;
  const script = buildScript();
  if (!existsSync(script)) {
    throw new Error(`${script} is missing: the lab needs it to build its RPM repositories (see docs/contracts.md, Packages)`);
  }
  log(`building lab packages (${script})`);
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const t0 = Date.now();
  const r = await run('bash', [script, tmp], { timeoutMs: 600_000 });
  if (r.code !== 0) {
    writeFileSync(join(paths.labDir, 'packages-build.log'), r.stdout + r.stderr);
    throw new Error(
      `${script} ${tmp} failed (exit ${r.code}); its output is in ${join(paths.labDir, 'packages-build.log')}:\n${(r.stderr || r.stdout).trim().split('\n').slice(-15).join('\n')}`,
    );
  }
  for (const c of CHANNELS) {
    if (!existsSync(join(tmp, 'repos', c, 'repodata', 'repomd.xml'))) {
      throw new Error(`${script} did not produce ${join(tmp, 'repos', c, 'repodata', 'repomd.xml')} (channel ${c}); see docs/contracts.md`);
    }
  }
  writeFileSync(join(tmp, '.complete'), `${new Date().toISOString()} ${Date.now() - t0} ms\n`);
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
  log(`packages built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return out;
}

/** Remove package sets other than `keep` (only when no host binds them, i.e. at `down`). */
export function prunePackages(paths: LabPaths, keep: string | null): void {
  if (!existsSync(paths.packagesDir)) return;
  for (const e of readdirSync(paths.packagesDir)) {
    const p = join(paths.packagesDir, e);
    if (p !== keep) rmSync(p, { recursive: true, force: true });
  }
}

export function findRpm(dir: string, namePrefix: string): string | null {
  const rpms = join(dir, 'rpms');
  if (!existsSync(rpms)) return null;
  const walk = (d: string): string | null => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) {
        const r = walk(p);
        if (r) return r;
      } else if (e.startsWith(namePrefix) && e.endsWith('.rpm') && !e.endsWith('.src.rpm')) {
        return p;
      }
    }
    return null;
  };
  return walk(rpms);
}
