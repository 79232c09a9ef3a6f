// The lab network: one bridge per lab on the machine (gateway .0.1 of the lab's /16), and per
// host a veth pair whose inner end becomes the host's eth0. The bridge carries the lab folder
// as its alias, so a lab recognises its own bridge and never takes another lab's.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { labNet, type LabNet } from './state.ts';
import { labPaths, repoRoot } from './paths.ts';
import { must, run, sleep } from './proc.ts';
import { acquireLock, lockHolder } from './lock.ts';
import { removeRule } from './delay.ts';

interface IpLink {
  ifname: string;
  ifalias?: string;
  master?: string;
  link_type?: string;
  linkinfo?: { info_kind?: string };
}

export async function listLinks(): Promise<IpLink[]> {
  const out = await must('ip', ['-j', '-d', 'link', 'show'], 'listing network links');
  return JSON.parse(out || '[]') as IpLink[];
}

const ALIAS_PREFIX = 'trento-lab:';

function aliasFor(labDir: string): string {
  return `${ALIAS_PREFIX}${labDir}`;
}

/** Held while a lab chooses a network number or gives up its links: one at a time machine-wide. */
const NETWORK_LOCK = '/run/lock/trento-lab-net.lock';

/**
 * Pick the lab's network id and make sure its bridge exists and is ours.
 * The repository's lab is always 0 (tplab0, 10.77.0.1/16, the contract); LAB_NET_ID forces one.
 */
export async function ensureNetwork(labDir: string, isDefault: boolean, wanted: number | null): Promise<LabNet> {
  // Two labs choosing a network at the same moment must not pick the same one.
  const lock = await acquireLock(NETWORK_LOCK, 'choosing a lab network');
  try {
    const links = await listLinks();
    const byName = new Map(links.map((l) => [l.ifname, l]));
    // LAB_NET_ID is the number of the lab the environment names (LAB_DIR, or the repository's);
    // a test's own dedicated lab beside it looks for a free number from LAB_NET_ID + 100, so
    // sessions that each have their LAB_NET_ID never take each other's networks.
    const netIdEnv = process.env.LAB_NET_ID;
    const envLab = resolve(process.env.LAB_DIR ?? join(repoRoot, '.lab'));
    const designated = netIdEnv !== undefined && resolve(labDir) === envLab;
    const forced = designated ? Number(netIdEnv) : netIdEnv === undefined && isDefault ? 0 : null;
    const firstFree = netIdEnv !== undefined && !designated && Number.isInteger(Number(netIdEnv)) ? Math.min(Number(netIdEnv) + 100, 177) : 1;
    // Another lab's bridge with no host on it, and no command of that lab running (an `up`
    // holds the lab's lock from before it makes the bridge until its hosts are wired), is what
    // that lab left when its processes went without a `down` (a kill, a cut CI run, a checkout
    // since deleted). It goes, with its delay rule, where its lab's folder is gone, or where it
    // holds the number this lab must have (forced: it would stop that lab for good). Not
    // otherwise: a lab between the `down` and the `up` of its restart (a test file's fresh lab)
    // looks the same, and taking its number then gave two labs one network (the second's
    // Prometheus could not bind its address); a lab free to choose takes another number.
    const owner = (l: IpLink) => l.ifalias?.startsWith(ALIAS_PREFIX) && l.ifalias.slice(ALIAS_PREFIX.length);
    const stale = links.filter((l) => {
      const dir = owner(l);
      if (!dir || dir === labDir || !/^tplab\d+$/.test(l.ifname)) return false;
      if (links.some((p) => p.master === l.ifname) || lockHolder(labPaths(dir).lock) !== null) return false;
      return !existsSync(dir) || l.ifname === `tplab${forced}`;
    });
    for (const l of stale) {
      const net = labNet(Number(l.ifname.slice('tplab'.length)));
      await removeRule(net).catch(() => undefined);
      await removeLinks([l.ifname]);
      byName.delete(l.ifname);
      process.stderr.write(`[lab] removed ${l.ifname}, left with no host by ${l.ifalias ?? 'a lab'}\n`);
    }
    const ours = (id: number) => {
      const l = byName.get(labNet(id).bridge);
      return l === undefined ? 'free' : l.ifalias === aliasFor(labDir) ? 'ours' : 'taken';
    };
    let id: number;
    if (forced !== null) {
      if (!Number.isInteger(forced) || forced < 0) throw new Error(`LAB_NET_ID=${process.env.LAB_NET_ID}: expected an integer 0..177`);
      if (ours(forced) === 'taken') {
        const other = byName.get(labNet(forced).bridge)?.ifalias ?? '(no alias)';
        throw new Error(`bridge ${labNet(forced).bridge} belongs to another lab (${other}); stop it first (LAB_DIR=... npm run lab -- down)`);
      }
      id = forced;
    } else if (wanted !== null && wanted >= firstFree && ours(wanted) !== 'taken') {
      id = wanted;
    } else {
      id = firstFree;
      while (ours(id) === 'taken') id++;
    }
    const net = labNet(id);
    if (ours(id) === 'free') {
      await must('ip', ['-batch', '-'], `creating bridge ${net.bridge}`, {
        input: `${[
          `link add name ${net.bridge} type bridge forward_delay 0`,
          `link set dev ${net.bridge} alias "${aliasFor(labDir)}"`,
          `addr add ${net.gateway}/${net.prefix} dev ${net.bridge}`,
          `link set dev ${net.bridge} up`,
        ].join('\n')}\n`,
      });
    }
    return net;
  } finally {
    lock.release();
  }
}

/** Create veth pairs: the machine end joins the bridge, the other end goes into the host's netns as eth0. */
export async function createVeths(net: LabNet, items: Array<{ veth: string; pid: number }>): Promise<void> {
  if (items.length === 0) return;
  const lines: string[] = [];
  for (const { veth, pid } of items) {
    lines.push(`link add name ${veth} type veth peer name eth0 netns ${pid}`);
    lines.push(`link set dev ${veth} master ${net.bridge} up`);
  }
  // -force: one failure (a host that died meanwhile) must not stop the others; checked below.
  const r = await run('ip', ['-force', '-batch', '-'], { input: `${lines.join('\n')}\n` });
  const have = new Set((await listLinks()).map((l) => l.ifname));
  const missing = items.filter((i) => !have.has(i.veth));
  if (missing.length) {
    throw new Error(`could not create veth ${missing.map((m) => m.veth).join(', ')} on ${net.bridge} (host process gone?): ${r.stderr.trim().slice(0, 1000)}`);
  }
}

/** Delete leftover veth links (their netns is gone or going) and wait until they are really gone. */
export async function removeLinks(names: string[], timeoutMs = 20_000): Promise<void> {
  if (names.length === 0) return;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const have = new Set((await listLinks()).map((l) => l.ifname));
    const left = names.filter((n) => have.has(n));
    if (left.length === 0) return;
    if (Date.now() > deadline) throw new Error(`network links still present after ${timeoutMs} ms: ${left.join(', ')}`);
    await run('ip', ['-force', '-batch', '-'], { input: `${left.map((n) => `link del dev ${n}`).join('\n')}\n` });
    await sleep(100);
  }
}

/** Links that belong to this lab: its bridge and its veths (name prefix tp<id>v). */
export async function labLinks(net: LabNet): Promise<string[]> {
  const re = new RegExp(`^tp${net.netId}v\\d+$`);
  return (await listLinks()).map((l) => l.ifname).filter((n) => n === net.bridge || re.test(n));
}

/**
 * Whether `labDir` may act on `net`'s links and delay rule: its bridge is this lab's, or there is
 * none (links of that number left by nobody). A lab's state.json keeps its number after `down`,
 * and another lab may have taken it since: a second `down` of the first (a test's cleanup, a
 * leftover folder's wipe) then deleted the new owner's veths, and its hosts answered "No route to
 * host" with their bridge still up.
 */
async function ownsNetwork(net: LabNet, labDir: string): Promise<boolean> {
  const bridge = (await listLinks()).find((l) => l.ifname === net.bridge);
  return bridge === undefined || bridge.ifalias === aliasFor(labDir);
}

/**
 * A `down`'s work on its network (`release`: the delay rule, the veths, the bridge), done only
 * while the number is still this lab's. Under the lock a lab choosing a number holds, so no lab
 * takes the number between the check and the removal.
 */
export async function releaseNetwork(net: LabNet, labDir: string, release: () => Promise<void>): Promise<void> {
  const lock = await acquireLock(NETWORK_LOCK, 'releasing a lab network');
  try {
    if (await ownsNetwork(net, labDir)) await release();
  } finally {
    lock.release();
  }
}

export async function removeBridge(net: LabNet, labDir: string): Promise<void> {
  const l = (await listLinks()).find((x) => x.ifname === net.bridge);
  if (!l) return;
  if (l.ifalias !== aliasFor(labDir)) return; // not ours: leave it alone
  await removeLinks([net.bridge]);
}

const NEIGHBOUR_TABLE = '/proc/sys/net/ipv4/neigh/default';
export type NeighbourLimit = 'gc_thresh1' | 'gc_thresh2' | 'gc_thresh3';

/**
 * The ARP table limits `hosts` lab hosts need, given the `current` ones: only those to raise.
 * Below gc_thresh1 the kernel collects nothing, so it covers every host plus room for the
 * machine's own neighbours; gc_thresh2 (collected within seconds above it) and gc_thresh3 (the
 * hard limit) keep Linux's proportions of 1:4:8. A limit is raised, never lowered.
 */
export function neighbourLimitsFor(hosts: number, current: Record<NeighbourLimit, number>): Partial<Record<NeighbourLimit, number>> {
  const floor = hosts + 64;
  const wanted: Record<NeighbourLimit, number> = { gc_thresh1: floor, gc_thresh2: 4 * floor, gc_thresh3: 8 * floor };
  const raise: Partial<Record<NeighbourLimit, number>> = {};
  for (const name of Object.keys(wanted) as NeighbourLimit[]) if (current[name] < wanted[name]) raise[name] = wanted[name];
  return raise;
}

/**
 * Room in the machine's ARP table for every lab host: the machine is a neighbour of each host on
 * its bridge, and Linux's limits (gc_thresh1/2/3, by default 128/512/1024 entries for all devices
 * together) make a run over ~1,000 hosts fail on half of them with "No route to host" (the kernel
 * logs "neighbor table overflow"). `hosts` is this lab's; other labs' hosts on the machine (their
 * veths) are added. A lab of a few dozen hosts changes nothing; the limits stay raised after
 * `down`. Returns what was changed, for the log, or null.
 */
export async function ensureNeighbourRoom(net: LabNet, hosts: number): Promise<string | null> {
  const others = new RegExp(`^tp(?!${net.netId}v)\\d+v\\d+$`);
  const all = hosts + (await listLinks()).filter((l) => others.test(l.ifname)).length;
  const path = (name: NeighbourLimit) => `${NEIGHBOUR_TABLE}/${name}`;
  const read = (name: NeighbourLimit) => Number(readFileSync(path(name), 'utf8').trim());
  const current = { gc_thresh1: read('gc_thresh1'), gc_thresh2: read('gc_thresh2'), gc_thresh3: read('gc_thresh3') };
  const changed = Object.entries(neighbourLimitsFor(all, current)).map(([name, value]) => {
    writeFileSync(path(name as NeighbourLimit), `${value}\n`);
    return `${name} ${current[name as NeighbourLimit]} -> ${value}`;
  });
  return changed.length ? `${all} lab host(s) on this machine: raised its ARP table limits (net.ipv4.neigh.default.${changed.join(', ')})` : null;
}
