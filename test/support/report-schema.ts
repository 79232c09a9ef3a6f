// The --json report's schema (docs/report.schema.json) as a check every test can apply: the
// integration helpers validate each report the suite produces with it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';

const schemaPath = fileURLToPath(new URL('../../docs/report.schema.json', import.meta.url));
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(JSON.parse(readFileSync(schemaPath, 'utf8')) as object);

/** Throws with every place the report departs from the schema (and where the report came from). */
export function assertReportMatchesSchema(report: unknown, from: string): void {
  if (validate(report)) return;
  const problems = (validate.errors ?? []).map((e) => `  ${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
  throw new Error(`--json report ${from} does not match ${join('docs', 'report.schema.json')}:\n${problems.join('\n')}`);
}
