// The fact sources, in the order their shell runs in the one facts round trip (a source may use
// what an earlier one set). Adding a fact is one source: sources/NAME.sh writes its records,
// sources/NAME.ts parses them, and it is listed here. The check below makes the compiler refuse
// a HostFacts field that no source fills.
import { agentCandidate } from './sources/agent-candidate.ts';
import { alloyConfig } from './sources/alloy-config.ts';
import { clock } from './sources/clock.ts';
import { files } from './sources/files.ts';
import { folders } from './sources/folders.ts';
import { host } from './sources/host.ts';
import { packages } from './sources/packages.ts';
import { providers } from './sources/providers.ts';
import { units } from './sources/units.ts';
import { updates } from './sources/updates.ts';
import type { FactSource, HostFacts } from './types.ts';

// alloy-config before providers: it sets where Alloy serves HTTP (CUSTOM_ARGS) for the probes.
// clock last: the host's clock as the facts end, after every slow source.
export const FACT_SOURCES = [host, packages, units, alloyConfig, providers, agentCandidate, files, folders, updates, clock] as const;

type KeysOf<S> = S extends FactSource<infer K> ? K : never;
type Filled = KeysOf<(typeof FACT_SOURCES)[number]>;
// 'warnings' is every source's warnings together (parse.ts).
type Unfilled = Exclude<keyof HostFacts, Filled | 'warnings'>;
export const EVERY_FACT_HAS_A_SOURCE: [Unfilled] extends [never] ? true : Unfilled = true;
