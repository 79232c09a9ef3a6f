// npm run lab -- up [--hosts N] [--mix NAME=COUNT,...] [--rtt MS] | down [--wipe|--purge] | status [--json] [--cpu-window S]
import { parseArgs } from 'node:util';
import { labDown, labUp } from '../test/lab/lab.ts';
import { labPaths } from '../test/lab/paths.ts';
import { DEFAULT_MIX, PRODUCTS, parseMix } from '../test/lab/products.ts';
import { formatStatus, labStatus } from '../test/lab/status.ts';

const HELP = `Usage: npm run lab -- COMMAND [options]

Commands:
  up       start the lab (idempotent: running hosts are left alone) and its server side:
           Prometheus on the gateway (:9090) behind an nginx TLS edge for remote write
           (443 none, 8443 basic, 9443 bearer, 10443 mTLS; see test/lab/README.md)
             --hosts N                N hosts cycling through the default mix
             --mix NAME=COUNT,...     explicit counts, e.g. sles-16.0=2,sles-15-sp7=1
             (no option: the lab's current shape, or the default mix: one host per product but Leap 16.0)
             --rtt MS                 a real network's latency: every round trip to a host
                                      takes MS ms more (every packet to the hosts is held MS
                                      ms: an iptables NFQUEUE rule and test/lab/link-delay.py).
                                      Kept by later ups; --rtt 0 removes it
  down     stop every host of the lab and its server side, remove its bridge and links
             --wipe    also delete the hosts' disks and Prometheus' data (identities are kept)
             --purge   delete the whole lab folder and its inventory
  status   hosts, products, addresses, state, memory in use, the Prometheus URL, the
           added delay, and the lab's CPU use (hosts, keepers, Prometheus, nginx) as a share of the machine
             --json            machine-readable
             --cpu-window S    measure the CPU over S seconds (default 2; 15 or more for a steady
                               figure: the hosts' metrics work comes every 15 s)

Environment:
  LAB_DIR            lab folder (default <repo>/.lab; another folder = another lab, own bridge)
  LAB_NET_ID         force the network number of this lab (0 = tplab0, 10.77.0.0/16); the
                     tests' dedicated labs then take free numbers from LAB_NET_ID + 100
  LAB_INVENTORY_DIR  where the inventory goes (default inventories/lab for the default lab)

Products (mix names): ${PRODUCTS.map((p) => p.mix).join(', ')}
Default mix: ${DEFAULT_MIX.join(', ')}
Use a host: ssh -F <lab folder>/ssh_config HOST cmd
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      hosts: { type: 'string' },
      mix: { type: 'string' },
      rtt: { type: 'string' },
      wipe: { type: 'boolean' },
      purge: { type: 'boolean' },
      json: { type: 'boolean' },
      'cpu-window': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const cmd = positionals[0];
  if (values.help || !cmd) {
    process.stdout.write(HELP);
    return cmd || values.help ? 0 : 2;
  }
  const log = (s: string) => process.stderr.write(`lab: ${s}\n`);
  const paths = labPaths();
  switch (cmd) {
    case 'up': {
      if (values.hosts !== undefined && values.mix !== undefined) throw new Error('use either --hosts or --mix, not both');
      const hosts = values.hosts !== undefined ? Number(values.hosts) : undefined;
      if (hosts !== undefined && (!Number.isInteger(hosts) || hosts < 1)) throw new Error(`--hosts ${values.hosts}: expected a positive integer`);
      const rttMs = values.rtt !== undefined ? Number(values.rtt) : undefined;
      if (rttMs !== undefined && (!Number.isInteger(rttMs) || rttMs < 0 || values.rtt!.trim() === ''))
        throw new Error(`--rtt ${values.rtt}: expected whole milliseconds (0 removes the delay)`);
      const r = await labUp({ hosts, mix: values.mix !== undefined ? parseMix(values.mix) : undefined, rttMs, log });
      log(
        `${r.info.hosts.length} host(s) up in ${(r.ms / 1000).toFixed(1)} s ` +
          `(started ${r.started.length}, already up ${r.alreadyUp.length}${r.stopped.length ? `, stopped ${r.stopped.length}` : ''})`,
      );
      log(`inventory: ${paths.hostsYml}`);
      log(`try: ssh -F ${paths.sshConfig} ${r.info.hosts[0]?.name ?? 'HOST'} cat /etc/os-release`);
      return 0;
    }
    case 'down': {
      const r = await labDown({ wipe: values.wipe, purge: values.purge, log });
      log(`down: stopped ${r.stopped} host(s) in ${(r.ms / 1000).toFixed(1)} s`);
      return 0;
    }
    case 'status': {
      const window = values['cpu-window'] !== undefined ? Number(values['cpu-window']) : 2;
      if (!(window > 0 && window <= 600)) throw new Error(`--cpu-window ${values['cpu-window']}: expected seconds, more than 0 and at most 600`);
      const s = await labStatus(paths, { cpuWindowMs: window * 1000 });
      process.stdout.write(values.json ? `${JSON.stringify(s, null, 2)}\n` : `${formatStatus(s)}\n`);
      return 0;
    }
    default:
      process.stderr.write(`unknown command "${cmd}"\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`lab: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
