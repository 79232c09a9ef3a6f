// Turns the facts script's output into typed facts: its records (records.ts), each fact source's
// parser over them (registry.ts), one HostFacts. Pure: unit-tested without a host.
import { FACT_SOURCES } from './registry.ts';
import { readRecords, RecordsError } from './records.ts';
import { FactsError, type HostFacts } from './types.ts';

export function parseFacts(output: string): HostFacts {
  let records: Map<string, string>;
  try {
    records = new Map(readRecords(output));
  } catch (error) {
    if (error instanceof RecordsError) throw new FactsError(error.message);
    throw error;
  }
  if (records.get('done') !== 'yes') throw new FactsError('the facts script did not finish (output cut short)');
  const parts = FACT_SOURCES.map((source) => source.parse(records));
  const problems = parts.flatMap((p) => p.problems ?? []);
  if (problems.length) throw new FactsError(problems.join('; '));
  // Every field has its source (registry.ts checks it when compiling).
  return Object.assign({ warnings: parts.flatMap((p) => p.warnings ?? []) }, ...parts.map((p) => p.facts)) as HostFacts;
}
