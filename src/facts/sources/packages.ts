// Fact source "packages" (packages.sh): which of the toolkit's packages are installed.
import type { FactSource } from '../types.ts';

/** `rpm -q --qf '%{NAME} %{VERSION}-%{RELEASE}\n' A B`: installed ones as "NAME VERSION", others as
 *  "package NAME is not installed". */
export function parsePackages(text: string): Record<string, string> {
  const installed: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(\S+) (\S+)$/.exec(line.trim());
    if (m && m[1] !== 'package') installed[m[1]!] = m[2]!;
  }
  return installed;
}

export const packages: FactSource<'packages'> = {
  name: 'packages',
  parse: (r) => ({ facts: { packages: parsePackages(r.get('packages') ?? '') } }),
};
