// The last line of defence for secrets: every byte any output writes goes through this.
// Secrets are also masked where they are used (command parts, file masks); this catches
// whatever a host echoes back (an error quoting a config line, a zypper message, ...).
import { MASK } from '../exec/command.ts';
import { MIN_FREE_TEXT_SECRET } from '../settings/secrets.ts';

export type Redactor = (text: string) => string;

/**
 * Builds a redactor for these secret values (longest first, so overlapping values mask fully).
 * Values shorter than MIN_FREE_TEXT_SECRET are left to the structured masks (see there).
 */
export function redactor(secrets: Iterable<string>): Redactor {
  const values = [...new Set([...secrets].filter((s) => s.length >= MIN_FREE_TEXT_SECRET))].sort((a, b) => b.length - a.length);
  if (values.length === 0) return (t) => t;
  const variants = new Set<string>();
  for (const v of values) {
    variants.add(v);
    variants.add(encodeURIComponent(v)); // inside URLs (facts-service-url)
    variants.add(JSON.stringify(v).slice(1, -1)); // inside JSON or escaped strings
    variants.add(v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')); // inside Alloy strings
  }
  const pattern = new RegExp(
    [...variants]
      .filter((v) => v.length >= MIN_FREE_TEXT_SECRET)
      .sort((a, b) => b.length - a.length)
      .map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('|'),
    'g',
  );
  return (text) => text.replace(pattern, MASK);
}
