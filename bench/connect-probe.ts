// The toolkit's own SSH floor: open a session to every host of an inventory at once (the same
// code the toolkit connects with, by the inventory's transport: OpenSSH by default) and run `true` in it, once.
// Prints JSON: when the last `true` came back (OpenSSH connects with a host's first script, so
// there is no separate "connected" moment to report).
// Usage: tsx bench/connect-probe.ts INVENTORY FORKS [ssh|paramiko] [SSH_EXTRA_ARGS] (as -c and --ssh-extra-args)
import { connectionFor } from '../src/exec/connection.ts';
import { sh } from '../src/exec/command.ts';
import { connector } from '../src/exec/connector.ts';
import { loadInventory } from '../src/inventory/index.ts';
import { forEachLimit } from '../src/util/pool.ts';

const [path, forksText, transport, sshExtraArgs] = process.argv.slice(2);
const inventory = await loadInventory(path!);
const hosts = [...inventory.hosts.values()];
const started = performance.now();
let failures = 0;
const sessions = connector();
const countFailure = () => {
  failures++;
};
await forEachLimit(
  hosts,
  Number(forksText ?? hosts.length),
  async (h) => {
    const session = await sessions.open(
      connectionFor(h.name, h.vars, {
        timeoutMs: 30_000,
        hostKeyChecking: true,
        ...(transport ? { transport } : {}),
        ...(sshExtraArgs ? { sshExtraArgs } : {}),
      }),
    );
    const r = await session.run(sh`true`);
    if (r.code !== 0) failures++;
    session.close();
  },
  countFailure,
);
await sessions.close();
process.stdout.write(`${JSON.stringify({ hosts: hosts.length, totalMs: performance.now() - started, failures })}\n`);
