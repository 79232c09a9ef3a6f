#!/usr/bin/env node
// The installed inventory command (package.json "bin"): ansible-inventory's --list, --host,
// --graph and --list-hosts for the same inventories (`npm run inventory` in the repository).
import { startCompiled } from './start.js';

await startCompiled('inventory', 'trento-provision-inventory');
