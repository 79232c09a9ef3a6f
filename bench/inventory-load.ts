// Loads an inventory with the toolkit's loader and prints how long that took (JSON), so the
// benchmark can time the loader alone, apart from Node's and tsx's start-up. cpuMs is the
// process' CPU time during the load: less sensitive than wall time to a busy machine.
// Usage: tsx bench/inventory-load.ts PATH
import { loadInventory } from '../src/inventory/index.ts';

const cpu = process.cpuUsage();
const started = performance.now();
const inventory = await loadInventory(process.argv[2]!);
const ms = performance.now() - started;
const used = process.cpuUsage(cpu);
process.stdout.write(`${JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000, hosts: inventory.hosts.size, groups: inventory.groups.size })}\n`);
