// YAML double-quoted scalars.
//
// Why always double-quoted: plain YAML scalars change meaning with their content ("yes",
// "null", "0x10", "*alias", "# comment", ": ", leading spaces...). A double-quoted scalar with
// escapes is always a string and always ends where it should, for any value.

const NAMED: Readonly<Record<string, string>> = {
  '\0': '\\0',
  '\x07': '\\a',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\v': '\\v',
  '\f': '\\f',
  '\r': '\\r',
  '\x1b': '\\e',
  // NEL: printable in YAML 1.2, but a line break to the agent's parser (go-yaml v3, like
  // libyaml and PyYAML), which folds it to a space inside a double-quoted scalar.
  '\x85': '\\N',
  '"': '\\"',
  '\\': '\\\\',
};

// YAML 1.2 c-printable: tab, LF, CR, 0x20-0x7E, 0x85, 0xA0-0xD7FF, 0xE000-0xFFFD, and
// beyond the BMP. Everything else must be escaped. U+2028/2029 (and NEL, above) are printable in
// YAML 1.2 but line breaks in 1.1 and to libyaml-based parsers: escape them as well.
function isPrintable(code: number): boolean {
  if (code === 0x2028 || code === 0x2029 || code === 0xfeff) return false;
  return (code >= 0x20 && code <= 0x7e) || code === 0x85 || (code >= 0xa0 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || code >= 0x10000;
}

export function yamlDoubleQuoted(value: string): string {
  const body = Array.from(value, (ch) => {
    const named = NAMED[ch];
    if (named !== undefined) return named;
    const code = ch.codePointAt(0) ?? 0;
    return isPrintable(code) ? ch : `\\u${code.toString(16).padStart(4, '0')}`;
  }).join('');
  return `"${body}"`;
}
