// The lab's bridges on a machine several checkouts share: another lab's bridge with no host on
// it and no command of that lab running is taken back where that lab's folder is gone (a checkout
// since deleted), never one whose lab is coming up (its `up` holds the lab's lock until the hosts
// are wired) nor one whose lab is between the `down` and the `up` of a restart (its folder there).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { ensureNetwork, listLinks } from './network.ts';
import { labPaths } from './paths.ts';

const mine = mkdtempSync('/tmp/lab-net-test-');
const busy = mkdtempSync('/tmp/lab-net-test-busy-');
const restarting = mkdtempSync('/tmp/lab-net-test-restarting-'); // between its down and its up
const gone = `/tmp/lab-net-test-gone-${process.pid}`; // a checkout since deleted
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'ignore' });
const aliasOf = async (name: string) => (await listLinks()).find((l) => l.ifname === name)?.ifalias;

afterAll(async () => {
  // Only this file's bridges: another session's lab may hold one of these numbers (its free
  // numbers start at its LAB_NET_ID + 100).
  const ours = new Set([mine, busy, restarting, gone].map((dir) => `trento-lab:${dir}`));
  for (const link of await listLinks()) if (link.ifalias !== undefined && ours.has(link.ifalias)) ip('link', 'del', 'dev', link.ifname);
  for (const dir of [mine, busy, restarting]) rmSync(dir, { recursive: true, force: true });
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

it("a bridge whose lab's folder is there is never taken, though it has no host and no lock (a test file's lab restarting): a lab that wanted its number takes a free one", async () => {
  ip('link', 'add', 'name', 'tplab174', 'type', 'bridge');
  ip('link', 'set', 'dev', 'tplab174', 'alias', `trento-lab:${restarting}`);
  // A free number is looked for from LAB_NET_ID + 100 (173 here), clear of the suite's labs.
  const saved = process.env.LAB_NET_ID;
  process.env.LAB_NET_ID = '73';
  try {
    const net = await ensureNetwork(mine, false, 174);
    expect(net.netId).toBe(173);
  } finally {
    if (saved === undefined) delete process.env.LAB_NET_ID;
    else process.env.LAB_NET_ID = saved;
  }
  expect(await aliasOf('tplab174')).toBe(`trento-lab:${restarting}`);
});
