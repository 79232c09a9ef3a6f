// What the lab's Python host programs import from this machine: the hosts run the machine's
// /usr/bin/python3 and its modules. One probe, asked by `lab up` (before any host starts), the
// suite's requirements (test/support/requires.ts) and so the bench, which brings a lab up.
import { spawnSync } from 'node:child_process';

/**
 * Why the lab's Alloy stand-in (test/lab/host/alloy) cannot push, or null: it encodes its remote
 * write with Debian's python3-protobuf and python3-snappy. A lab without them would start, and
 * every SLES 16 host would fail the delivery check only after waiting for it.
 */
export function alloyPushProblem(python = '/usr/bin/python3'): string | null {
  const r = spawnSync(python, ['-c', 'import snappy, google.protobuf'], { encoding: 'utf8' });
  if (r.status === 0) return null;
  const why = r.error?.message ?? r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`;
  return `the lab's Alloy stand-in cannot push its remote write: python3-protobuf or python3-snappy is missing for ${python} (${why}); bash scripts/setup.sh installs them`;
}
