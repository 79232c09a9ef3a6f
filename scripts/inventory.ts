// npm run inventory -- -i PATH [-i PATH...] --list | --host NAME | --graph [GROUP] [--vars]
//                     | --list-hosts PATTERN [--limit LIMIT] [--playbook-dir DIR]
// Prints what ansible-inventory (or `ansible PATTERN --list-hosts`) prints for the same inventory.

import { homedir } from 'node:os';
import { closest } from 'fastest-levenshtein';
import { AnsibleConfigError, readAnsibleSettings } from '../src/cli/ansible-config.ts';
import { CliError, hostPatternMismatchOf, resolveInventory } from '../src/cli/args.ts';
import { invocationDir, packageRoot } from '../src/cli/invocation.ts';
import { PromptError, terminalPrompt } from '../src/cli/prompt.ts';
import { resolveVaultSecrets, VaultSecretError } from '../src/cli/vault-secrets.ts';
import { InventoryError, limitHosts, loadInventory } from '../src/inventory/index.ts';
import { ansibleJson, inventoryGraph, inventoryHost, inventoryList, listHostsText } from '../src/inventory/listing.ts';
import { inventoryPathList } from '../src/util/unfrack-path.ts';

const USAGE = `usage: trento-provision-inventory (npm run inventory -- in the repository) -i PATH (--list | --host NAME | --graph [GROUP] [--vars] | --list-hosts PATTERN [-l LIMIT])
  -i, --inventory PATH   inventory file or folder (repeatable; a name under inventories/ works too)
  --playbook-dir DIR     also read DIR/group_vars/ and DIR/host_vars/
  --list                 all groups and host variables, as JSON
  --host NAME            one host's variables, as JSON
  --graph [GROUP]        the group tree (from GROUP, default all); --vars adds variables
  --list-hosts PATTERN   the hosts a pattern selects; -l/--limit restricts them like ansible's --limit
  --vault-id [LABEL@]SOURCE, --vault-password-file FILE, -J/--ask-vault-pass
                         vault passwords for encrypted group_vars/host_vars files (as ansible-inventory,
                         inline !vault values stay encrypted in the output)
  Defaults come from ansible.cfg and ANSIBLE_* as Ansible finds them (inventory, vault_password_file).`;

interface Args {
  inventories: string[];
  action?: 'list' | 'host' | 'graph' | 'list-hosts';
  target?: string;
  limit?: string;
  vars: boolean;
  playbookDir?: string;
  vaultIds: string[];
  vaultPasswordFiles: string[];
  askVaultPass: boolean;
}

/** What a flag does to the arguments: `take` reads its value (--flag=VALUE or the next word). */
type FlagHandler = (args: Args, take: () => string, setAction: (action: NonNullable<Args['action']>) => void) => void;

const inventoryFlag: FlagHandler = (args, take) => args.inventories.push(take());
const vaultPasswordFileFlag: FlagHandler = (args, take) => args.vaultPasswordFiles.push(take());
const askVaultPassFlag: FlagHandler = (args) => {
  args.askVaultPass = true;
};
const limitFlag: FlagHandler = (args, take) => {
  args.limit = take();
};
const helpFlag: FlagHandler = () => {
  console.log(USAGE);
  process.exit(0);
};

/** ansible-inventory's flags that the listing honours, each spelling. */
const FLAGS: Readonly<Record<string, FlagHandler>> = {
  '-i': inventoryFlag,
  '--inventory': inventoryFlag,
  '--inventory-file': inventoryFlag,
  '--list': (_args, _take, setAction) => setAction('list'),
  '--host': (args, take, setAction) => {
    setAction('host');
    args.target = take();
  },
  '--graph': (_args, _take, setAction) => setAction('graph'),
  '--vars': (args) => {
    args.vars = true;
  },
  '--list-hosts': (args, take, setAction) => {
    setAction('list-hosts');
    args.target = take();
  },
  '-l': limitFlag,
  '--limit': limitFlag,
  '--playbook-dir': (args, take) => {
    args.playbookDir = take();
  },
  '--vault-id': (args, take) => args.vaultIds.push(take()),
  '--vault-password-file': vaultPasswordFileFlag,
  '--vault-pass-file': vaultPasswordFileFlag,
  '-J': askVaultPassFlag,
  '--ask-vault-pass': askVaultPassFlag,
  '--ask-vault-password': askVaultPassFlag,
  '-h': helpFlag,
  '--help': helpFlag,
};

function parseArgs(argv: string[]): Args {
  const args: Args = { inventories: [], vars: false, vaultIds: [], vaultPasswordFiles: [], askVaultPass: false };
  const value = (i: number, flag: string): string => {
    const v = argv[i];
    if (v === undefined) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  const setAction = (action: NonNullable<Args['action']>): void => {
    if (args.action) throw new UsageError('only one of --list, --host, --graph, --list-hosts can be used at a time');
    args.action = action;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const handler = Object.hasOwn(FLAGS, flag) ? FLAGS[flag] : undefined;
    if (handler) {
      handler(args, () => inline ?? value(++i, flag), setAction);
      continue;
    }
    if (a.startsWith('-')) {
      // The closest known spelling of the same kind (--long or -s), as the provision CLI says it.
      const candidates = Object.keys(FLAGS).filter((f) => f.startsWith('--') === flag.startsWith('--'));
      throw new UsageError(`unknown option ${flag}; did you mean ${closest(flag, candidates)}?`);
    }
    // ansible-inventory --graph GROUP
    if (args.action === 'graph' && args.target === undefined) args.target = a;
    else throw new UsageError(`unexpected argument ${a}`);
  }
  if (!args.action) throw new UsageError('no action selected: use one of --list, --host, --graph, --list-hosts');
  // ansible-inventory narrows --list and --graph to the limit's hosts; here -l goes with
  // --list-hosts only, and a limit that would be dropped without a word is an error instead.
  if (args.limit !== undefined && args.action !== 'list-hosts') {
    throw new UsageError(
      `-l/--limit goes with --list-hosts here (the listing would show every host, not the limit's): use --list-hosts PATTERN -l ${args.limit}`,
    );
  }
  return args;
}

class UsageError extends Error {}

// The package's own folder (the repository, or the installed package): inventories/NAME.
const projectDir = packageRoot(import.meta.url);

async function main(): Promise<number> {
  // Relative paths (-i, ./ansible.cfg, vault password files, --limit @file) start from the
  // folder the admin ran the command in, as for `npm run provision` (INIT_CWD under npm run):
  // the listing must load the inventory and ansible.cfg the run would.
  const adminDir = invocationDir(process.env, process.cwd(), projectDir);
  process.chdir(adminDir);
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`ERROR! ${e.message}\n${USAGE}`);
      return 1;
    }
    throw e;
  }
  try {
    const cfg = readAnsibleSettings({ env: process.env, cwd: adminDir });
    for (const w of cfg.warnings) console.error(`[WARNING]: ${w}`);
    const inventories = args.inventories.length
      ? args.inventories
      : cfg.origins.inventory?.startsWith('env:')
        ? inventoryPathList(process.env.ANSIBLE_INVENTORY ?? '', process.env, homedir())
        : (cfg.inventory ?? ['/etc/ansible/hosts']);
    const secrets = await resolveVaultSecrets(
      {
        vaultIds: [...(cfg.vaultIdentityList ?? []), ...args.vaultIds],
        passwordFiles: [...args.vaultPasswordFiles, ...(cfg.vaultPasswordFile ? [cfg.vaultPasswordFile] : [])],
        askVaultPass: args.askVaultPass || (cfg.askVaultPass ?? false),
      },
      terminalPrompt(),
      adminDir,
    );
    const inventory = await loadInventory(
      inventories.map((name) => resolveInventory(name, projectDir, adminDir)),
      {
        playbookDir: args.playbookDir,
        // Even without a password: an encrypted vars file is then an error naming it, as with
        // ansible-inventory (skipping it would list the hosts without its variables).
        vault: { secrets },
      },
    );
    for (const w of inventory.warnings) console.error(`[WARNING]: ${w}`);
    switch (args.action) {
      case 'list':
        console.log(ansibleJson(inventoryList(inventory)));
        break;
      case 'host':
        console.log(ansibleJson(inventoryHost(inventory, args.target!)));
        break;
      case 'graph':
        console.log(inventoryGraph(inventory, args.target ?? 'all', args.vars));
        break;
      case 'list-hosts': {
        const selection = limitHosts(inventory, args.limit, args.target!, { hostPatternMismatch: hostPatternMismatchOf(cfg) });
        for (const w of selection.warnings) console.error(`[WARNING]: ${w}`);
        if (selection.hosts.length === 0) console.error('[WARNING]: No hosts matched, nothing to do');
        console.log(listHostsText(selection.hosts));
        break;
      }
    }
    return 0;
  } catch (e) {
    if (e instanceof InventoryError || e instanceof VaultSecretError || e instanceof PromptError || e instanceof AnsibleConfigError || e instanceof CliError) {
      console.error(`ERROR! ${e.message}`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = await main();
