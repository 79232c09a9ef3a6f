// The lab's bridges on a machine several checkouts share: another lab's bridge with no host on
// it and no command of that lab running (what a killed lab or a cut CI run leaves) is taken back,
// never one whose lab is coming up (its `up` holds the lab's lock until the hosts are wired).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { ensureNetwork, listLinks } from './network.ts';
import { labPaths } from './paths.ts';

const mine = mkdtempSync('/tmp/lab-net-test-');
const busy = mkdtempSync('/tmp/lab-net-test-busy-');
const gone = `/tmp/lab-net-test-gone-${process.pid}`; // a checkout since deleted
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'ignore' });
const aliasOf = async (name: string) => (await listLinks()).find((l) => l.ifname === name)?.ifalias;

afterAll(() => {
  for (const bridge of ['tplab175', 'tplab176']) {
    try {
      ip('link', 'del', 'dev', bridge);
    } catch {
      // not there
    }
  }
  for (const dir of [mine, busy]) rmSync(dir, { recursive: true, force: true });
});

it("another lab's bridge left with no host is taken back; one whose lab holds its lock is left alone", async () => {
  ip('link', 'add', 'name', 'tplab175', 'type', 'bridge');
  ip('link', 'set', 'dev', 'tplab175', 'alias', `trento-lab:${gone}`);
  ip('link', 'add', 'name', 'tplab176', 'type', 'bridge');
  ip('link', 'set', 'dev', 'tplab176', 'alias', `trento-lab:${busy}`);
  writeFileSync(labPaths(busy).lock, `${process.pid}\n`); // that lab's `up`, still wiring its hosts
  const net = await ensureNetwork(mine, false, 175);
  expect(net.netId).toBe(175);
  expect(await aliasOf('tplab175')).toBe(`trento-lab:${mine}`);
  expect(await aliasOf('tplab176')).toBe(`trento-lab:${busy}`);
});
