// Fact source "packages" (packages.sh): which of the toolkit's packages are installed.
import { PACKAGES } from '../paths.ts';
import type { FactSource } from '../types.ts';

/** rpm's query format for "NAME VERSION-RELEASE", read here and by the apply's proof of an upgrade
 *  (tp_packages_upgrade, src/apply/lib.sh): both scripts get it as TP_RPM_VERSIONS_FORMAT. */
export const RPM_VERSIONS_FORMAT = '%{NAME} %{VERSION}-%{RELEASE}\\n';

/** `rpm -q --qf RPM_VERSIONS_FORMAT A B`: installed ones as "NAME VERSION", others as
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
  parse: (r) => {
    const text = r.get('packages');
    // No rpm at all: not a SUSE system, which the platform rules refuse by name.
    if (text === undefined) return { facts: { packages: {} } };
    const installed = parsePackages(text);
    // rpm names each package it was asked about, installed or not: one it said nothing of means
    // its database did not answer (a damaged rpmdb prints only errors). Read as "not installed",
    // the plan would install what is there and forget the record of what the toolkit installed.
    const answered = new Set([...Object.keys(installed), ...[...text.matchAll(/^package (\S+) is not installed$/gmu)].map((m) => m[1]!)]);
    const unanswered = Object.values(PACKAGES).filter((name) => !answered.has(name));
    return {
      facts: { packages: installed },
      ...(unanswered.length
        ? {
            problems: [
              `rpm -q gave no answer for ${unanswered.join(', ')} (a damaged rpm database? 'rpm --rebuilddb' on the host): what is installed cannot be known`,
            ],
          }
        : {}),
    };
  },
};
