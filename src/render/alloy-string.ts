// Alloy string literals.
//
// Why: the upstream template inserts values raw, so a password with `"` breaks trento.alloy
// or injects configuration. Alloy strings follow Go's string-literal rules; this writes what
// Go's strconv.Quote writes for the same text, which Alloy decodes back to the same value.

const NAMED: Readonly<Record<string, string>> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '"': '\\"',
  '\\': '\\\\',
};

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, '0');
}

/** One character (code point) as it appears inside an Alloy string. */
function escapeChar(ch: string): string {
  const named = NAMED[ch];
  if (named !== undefined) return named;
  const code = ch.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f) return `\\x${hex(code, 2)}`;
  // C1 controls, line/paragraph separators, BOM and lone surrogates: visible as escapes so
  // nothing invisible ends up in the file (lone surrogates cannot be written as UTF-8 at all).
  if ((code >= 0x80 && code <= 0x9f) || code === 0x2028 || code === 0x2029 || code === 0xfeff) return `\\u${hex(code, 4)}`;
  if (code >= 0xd800 && code <= 0xdfff) return '\\ufffd';
  return ch;
}

/** The body of an Alloy string literal, without the surrounding quotes. */
export function escapeAlloyString(value: string): string {
  return Array.from(value, escapeChar).join('');
}

/** A complete Alloy string literal: "..." with escapes. */
export function alloyString(value: string): string {
  return `"${escapeAlloyString(value)}"`;
}

/**
 * A relabel rule's `replacement` as an Alloy string that yields `value` itself: Alloy expands
 * `$1`, `${name}` and `$name` there (Go's Regexp.Expand; an unknown name expands to nothing), so
 * a `$` is doubled, which Expand reads as one literal `$`.
 */
export function relabelReplacement(value: string): string {
  return alloyString(value.replaceAll('$', () => '$$'));
}
