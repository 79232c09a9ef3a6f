// Go time.Duration, parsed and printed exactly like Go does it.
//
// Why: the agent reads duration keys with time.ParseDuration, and `trento-agent generate alloy`
// prints the scrape interval with Duration.String() ("1m" -> "1m0s"). trento.alloy must be
// byte-identical to the agent's output, and a value the agent would reject must be caught
// before any host is touched. Nanoseconds are bigint so no value is rounded.

const NANOSECOND = 1n;
const MICROSECOND = 1000n * NANOSECOND;
const MILLISECOND = 1000n * MICROSECOND;
const SECOND = 1000n * MILLISECOND;
const MINUTE = 60n * SECOND;
const HOUR = 60n * MINUTE;
const MAX_INT64 = (1n << 63n) - 1n;

/** The units time.ParseDuration accepts (both micro signs, as Go does). */
const UNITS: Readonly<Record<string, bigint>> = {
  ns: NANOSECOND,
  us: MICROSECOND,
  µs: MICROSECOND, // U+00B5 MICRO SIGN
  μs: MICROSECOND, // U+03BC GREEK SMALL LETTER MU
  ms: MILLISECOND,
  s: SECOND,
  m: MINUTE,
  h: HOUR,
};

export type ParsedDuration = { ok: true; nanoseconds: bigint } | { ok: false; error: string };

// One "<number><unit>" element: digits with an optional fraction (".5" and "1." are valid in Go),
// then a unit made of anything that is not a digit or a dot (Go reads the unit that way and
// then looks it up, so "15 s" fails on the space).
const ELEMENT = /^(\d*)(?:\.(\d*))?([^\d.]*)/u;

/**
 * time.ParseDuration: "[-+]?(<number><unit>)+" or the bare "0". Negative values parse
 * (Go accepts them); whether a negative or zero value is allowed is the caller's decision.
 */
export function parseGoDuration(text: string): ParsedDuration {
  const invalid = (): ParsedDuration => ({ ok: false, error: `time: invalid duration "${text}"` });
  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return { ok: true, nanoseconds: 0n };
  if (rest === '') return invalid();
  let total = 0n;
  while (rest !== '') {
    const match = ELEMENT.exec(rest);
    const [whole = '', intDigits = '', fracDigits, unitText = ''] = match ?? [];
    if (!match || (intDigits === '' && (fracDigits ?? '') === '')) return invalid();
    if (unitText === '') return { ok: false, error: `time: missing unit in duration "${text}"` };
    const unit = UNITS[unitText];
    if (unit === undefined) return { ok: false, error: `time: unknown unit "${unitText}" in duration "${text}"` };
    const fraction = fracDigits ?? '';
    // Go truncates the fractional part to whole nanoseconds.
    const fracNs = fraction === '' ? 0n : (BigInt(fraction) * unit) / 10n ** BigInt(fraction.length);
    total += BigInt(intDigits === '' ? '0' : intDigits) * unit + fracNs;
    if (total > MAX_INT64 + (negative ? 1n : 0n)) return invalid();
    rest = rest.slice(whole.length);
  }
  return { ok: true, nanoseconds: negative ? -total : total };
}

/** A positive Go duration in whole milliseconds; undefined for anything else (not a string, not a
 *  duration, zero or negative). Prometheus' durations (30s, 1m, 500ms) read the same way here. */
export function goDurationMs(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const d = parseGoDuration(text);
  return d.ok && d.nanoseconds > 0n ? Number(d.nanoseconds / 1_000_000n) : undefined;
}

/** "1.500" -> "1.5", "2.000" -> "2": Go's fmtFrac drops trailing zeros and a lone dot. */
function withFraction(value: bigint, unit: bigint, digits: number): string {
  const whole = value / unit;
  const frac = (value % unit).toString().padStart(digits, '0').replace(/0+$/u, '');
  return frac === '' ? whole.toString() : `${whole}.${frac}`;
}

/** Duration.String(): "0s", "500ms", "1.5µs", "15s", "1m0s", "1m30s", "1h0m0s". */
export function formatGoDuration(nanoseconds: bigint): string {
  if (nanoseconds === 0n) return '0s';
  const sign = nanoseconds < 0n ? '-' : '';
  const abs = nanoseconds < 0n ? -nanoseconds : nanoseconds;
  if (abs < MICROSECOND) return `${sign}${abs}ns`;
  if (abs < MILLISECOND) return `${sign}${withFraction(abs, MICROSECOND, 3)}µs`;
  if (abs < SECOND) return `${sign}${withFraction(abs, MILLISECOND, 6)}ms`;
  const hours = abs / HOUR;
  const minutes = (abs % HOUR) / MINUTE;
  const seconds = withFraction(abs % MINUTE, SECOND, 9);
  if (hours > 0n) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0n) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}

/**
 * The check the toolkit applies to every duration setting: Go syntax with a unit, and
 * strictly positive (a zero or negative interval makes no sense for a period or a scrape).
 * Returns the problem in words, or undefined when the value is fine.
 */
export function positiveDurationProblem(text: string): string | undefined {
  const parsed = parseGoDuration(text);
  if (!parsed.ok) return `${parsed.error} (use Go syntax such as "15s", "1m30s", "500ms", "1h")`;
  if (parsed.nanoseconds <= 0n) return `duration "${text}" must be greater than zero`;
  return undefined;
}
