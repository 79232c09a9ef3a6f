// npm run inventory -- -i PATH [-i PATH...] --list | --host NAME | --graph [GROUP] [--vars]
//                     | --list-hosts PATTERN [--limit LIMIT] [--playbook-dir DIR]
// Prints what ansible-inventory (or `ansible PATTERN --list-hosts`) prints for the same inventory.

import { AnsibleConfigError, readAnsibleSettings } from '../src/cli/ansible-config.ts';
import { CliError, resolveInventory } from '../src/cli/args.ts';
import { invocationDir, packageRoot } from '../src/cli/invocation.ts';
import { PromptError, terminalPrompt } from '../src/cli/prompt.ts';
import { resolveVaultSecrets, VaultSecretError } from '../src/cli/vault-secrets.ts';
import { InventoryError, limitHosts, loadInventory } from '../src/inventory/index.ts';
import { ansibleJson, inventoryGraph, inventoryHost, inventoryList, listHostsText } from '../src/inventory/listing.ts';

const USAGE = `usage: trento-provision-inventory (npm run inventory -- in the repository) -i PATH (--list | --host NAME | --graph [GROUP] [--vars] | --list-hosts PATTERN [-l LIMIT])
  -i, --inventory PATH   inventory file or folder (repeatable; a name under inventories/ works too)
  --playbook-dir DIR     also read group_vars/ and host_vars/ beside DIR
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
    const take = (): string => inline ?? value(++i, flag);
    switch (flag) {
      case '-i':
      case '--inventory':
      case '--inventory-file':
        args.inventories.push(take());
        break;
      case '--list':
        setAction('list');
        break;
      case '--host':
        setAction('host');
        args.target = take();
        break;
      case '--graph':
        setAction('graph');
        break;
      case '--vars':
        args.vars = true;
        break;
      case '--list-hosts':
        setAction('list-hosts');
        args.target = take();
        break;
      case '-l':
      case '--limit':
        args.limit = take();
        break;
      case '--playbook-dir':
        args.playbookDir = take();
        break;
      case '--vault-id':
        args.vaultIds.push(take());
        break;
      case '--vault-password-file':
      case '--vault-pass-file':
        args.vaultPasswordFiles.push(take());
        break;
      case '-J':
      case '--ask-vault-pass':
      case '--ask-vault-password':
        args.askVaultPass = true;
        break;
      case '-h':
      case '--help':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
        // ansible-inventory --graph GROUP
        if (args.action === 'graph' && args.target === undefined) args.target = a;
        else throw new UsageError(`unexpected argument ${a}`);
    }
  }
  if (!args.action) throw new UsageError('no action selected: use one of --list, --host, --graph, --list-hosts');
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
      console.error(`ERROR: ${e.message}\n${USAGE}`);
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
        ? (process.env.ANSIBLE_INVENTORY ?? '').split(',').filter((a) => a !== '')
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
        const selection = limitHosts(inventory, args.limit, args.target!);
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
