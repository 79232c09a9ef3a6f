// The small part of Jinja that role defaults and inventories use for these settings.
//
// Why: the official Trento role's defaults are Jinja ("{{ trento_server_url | default(...) }}"),
// and real inventories point secrets at other variables ("{{ vault_trento_api_key }}").
// Writing such a string literally into agent.yaml would be wrong, so strings are evaluated
// with this subset and anything outside it is reported, never passed through.
//
// Supported: {{ name }}, {% raw %}...{% endraw %}, 'text' / "text", numbers, true/false, parentheses, `~`
// (join as text) and `+` (numbers add, strings join), filters `default(x)` / `d(x)` (with a second argument `true`:
// also replace empty values), `string`, `trim`, `lower`, `upper`. Filters bind tighter than
// `~`, as in Jinja. An undefined variable makes the whole result undefined unless a
// `default` catches it; an undefined result means "not set". Errors never quote the text: the
// value may be a password, or hold one (a quoted literal, a raw block); they name names only.

export const UNDEFINED: unique symbol = Symbol('undefined');
export type Value = unknown; // a plain value, or UNDEFINED

export type TemplateResult = { ok: true; value: Value; refs: string[] } | { ok: false; error: string };

type Token = { kind: 'name'; text: string } | { kind: 'string'; text: string } | { kind: 'number'; value: number } | { kind: 'op'; text: string };

const TOKEN = /\s*(?:([A-Za-z_][A-Za-z0-9_]*)|'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(\d+(?:\.\d+)?)|(\|\||[|~+(),]))/uy;

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  const re = new RegExp(TOKEN.source, TOKEN.flags); // own lastIndex per call
  let at = 0;
  while (expr.slice(at).trim() !== '') {
    re.lastIndex = at;
    const m = re.exec(expr);
    if (!m) throw new Error(`unsupported syntax at character ${at + 1} of the expression`);
    at = re.lastIndex;
    const [, name, single, double, number, op] = m;
    if (name !== undefined) tokens.push({ kind: 'name', text: name });
    else if (single !== undefined) tokens.push({ kind: 'string', text: decodeEscapes(single) });
    else if (double !== undefined) tokens.push({ kind: 'string', text: decodeEscapes(double) });
    else if (number !== undefined) tokens.push({ kind: 'number', value: numberLiteral(number) });
    else if (op !== undefined && op !== '||') tokens.push({ kind: 'op', text: op });
    else throw new Error(`unsupported operator "${op}"`);
  }
  return tokens;
}

const LITERALS: Readonly<Record<string, unknown>> = {
  true: true,
  True: true,
  false: false,
  False: false,
  none: null,
  None: null,
};

/** Python's falsiness, which `default(x, true)` tests: also 0, an empty list or mapping. */
function isEmpty(value: Value): boolean {
  if (value === UNDEFINED || value === null || value === '' || value === false || value === 0) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value as object).length === 0;
}

/** A value as a {{ }} block among text writes it: None as nothing (Ansible's finalize), else str(). */
const output = (value: Value): string => (value === null ? '' : str(value));

/** A value as Jinja's `~` and `| string` write it: Python's str() (True, False, None). */
function str(value: Value): string {
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value === null) return 'None';
  // Python writes ['a', 'b'] and {'k': 1}; such text is no setting's value.
  if (typeof value === 'object') throw new Error('a list or mapping cannot be written as text here');
  return typeof value === 'string' ? value : String(value);
}

/**
 * A string literal's escapes, as Python reads them: \n, \t, \r, \\, \', \" decoded, any other
 * letter kept as written (Python keeps "\d"). The ones Python decodes into other characters
 * (\xHH, \uHHHH, \N{...}, octal, \a \b \f \v) are refused: a value is better written plainly.
 */
const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' };
function decodeEscapes(text: string): string {
  return text.replace(/\\(.)/gsu, (whole, ch: string) => {
    if (/[xuUN0-7abfv]/u.test(ch)) throw new Error(`the string escape "\\${ch}" is not supported: write the character itself`);
    return ESCAPES[ch] ?? whole;
  });
}

/** An integer literal, as Python has it; a float's text would print differently (1.0 as 1), a
 *  leading zero is a Jinja syntax error, and digits past 2^53 would be lost: all refused. */
function numberLiteral(text: string): number {
  if (text.includes('.')) throw new Error('float literals are not supported: quote the value as text');
  if (/^0\d/u.test(text)) throw new Error('a number with a leading zero is a syntax error in Jinja');
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error('a number this long is not supported: quote it as text');
  return value;
}

/** Jinja's `+`: numbers add, strings join; anything else is Python's TypeError (`~` joins any two). */
function plus(left: Value, right: Value): Value {
  if (typeof left === 'number' && typeof right === 'number') return left + right;
  if (typeof left === 'string' && typeof right === 'string') return left + right;
  throw new Error('"+" adds two numbers or joins two strings; use "~" to join other values as text');
}

type Filter = (input: Value, args: Value[]) => Value;
const FILTERS: Readonly<Record<string, Filter>> = {
  // The second argument is read with Python's truthiness (`default(x, 1)` is `default(x, true)`).
  default: (input, [fallback, alsoEmpty]) =>
    input === UNDEFINED || (alsoEmpty !== undefined && !isEmpty(alsoEmpty) && isEmpty(input)) ? (fallback ?? '') : input,
  string: (input) => (input === UNDEFINED ? input : str(input)),
  trim: (input) => (input === UNDEFINED ? input : str(input).trim()),
  lower: (input) => (input === UNDEFINED ? input : str(input).toLowerCase()),
  upper: (input) => (input === UNDEFINED ? input : str(input).toUpperCase()),
};
const FILTER_ALIASES: Readonly<Record<string, string>> = { d: 'default' };

/** Evaluates one expression (the inside of {{ }}). Throws on unsupported syntax. */
function evaluateExpression(expr: string, lookup: (name: string) => Value, refs: string[]): Value {
  const tokens = tokenize(expr);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const isOp = (text: string): boolean => {
    const t = peek();
    return t?.kind === 'op' && t.text === text;
  };
  const expect = (text: string): void => {
    if (!isOp(text)) throw new Error(`expected "${text}"`);
    pos += 1;
  };

  const primary = (): Value => {
    const t = peek();
    pos += 1;
    if (t === undefined) throw new Error('incomplete expression');
    if (t.kind === 'string') return t.text;
    if (t.kind === 'number') return t.value;
    if (t.kind === 'op' && t.text === '(') {
      const inner = concat();
      expect(')');
      return inner;
    }
    if (t.kind === 'name') {
      if (Object.hasOwn(LITERALS, t.text)) return LITERALS[t.text];
      if (isOp('(')) throw new Error(`function calls such as "${t.text}(...)" are not supported`);
      refs.push(t.text);
      return lookup(t.text);
    }
    throw new Error(`unexpected "${t.text}"`);
  };

  const filtered = (): Value => {
    let value = primary();
    while (isOp('|')) {
      pos += 1;
      const t = peek();
      pos += 1;
      if (t?.kind !== 'name') throw new Error('expected a filter name after "|"');
      const filterName = (Object.hasOwn(FILTER_ALIASES, t.text) ? FILTER_ALIASES[t.text] : undefined) ?? t.text;
      const filter = FILTERS[filterName];
      if (!filter) throw new Error(`filter "${t.text}" is not supported`);
      const args: Value[] = [];
      if (isOp('(')) {
        pos += 1;
        while (!isOp(')')) {
          args.push(concat());
          if (!isOp(')')) expect(',');
        }
        pos += 1;
      }
      value = filter(value, args);
    }
    return value;
  };

  /** OPERAND (OP OPERAND)*, left to right; an undefined operand makes the result undefined. */
  const chain = (op: string, operand: () => Value, combine: (left: Value, right: Value) => Value) => (): Value => {
    let value = operand();
    while (isOp(op)) {
      pos += 1;
      const right = operand();
      value = value === UNDEFINED || right === UNDEFINED ? UNDEFINED : combine(value, right);
    }
    return value;
  };
  // Jinja's precedence: `~` binds tighter than `+` (parse_math1 over parse_concat), so
  // `1 + 2 ~ 3` is 1 + '23', Python's TypeError.
  const joined = chain('~', filtered, (left, right) => str(left) + str(right));
  const concat = chain('+', joined, plus);

  const result = concat();
  if (pos !== tokens.length) throw new Error('unsupported syntax after a complete expression');
  return result;
}

const BLOCK = /\{\{(.*?)\}\}/gsu;

/** True when the string holds Jinja that needs evaluating (a {# comment #} too: it goes). */
export function hasTemplate(text: string): boolean {
  return text.includes('{{') || text.includes('{%') || text.includes('{#');
}

/** Jinja comments, which render as nothing. */
const COMMENT = /\{#[\s\S]*?#\}/gu;

/**
 * `{% raw %}...{% endraw %}` blocks, the older way to keep braces literal ("{% raw %}p{{w{% endraw %}"):
 * tags with `-` strip the whitespace beside them, and a line break right after `%}` of endraw
 * is dropped (Ansible's trim_blocks), as ansible-core renders them.
 */
const RAW_BLOCK = /\{%(-?)\s*raw\s*(-?)%\}([\s\S]*?)\{%(-?)\s*endraw\s*(-?)%\}\n?/gu;

/** The text cut into parts to evaluate and raw parts kept as written. */
function rawParts(text: string): { text: string; raw: boolean }[] {
  const parts: { text: string; raw: boolean }[] = [];
  let at = 0;
  let stripNext = false;
  for (const m of text.matchAll(RAW_BLOCK)) {
    const [, stripBefore, stripOpen, content, stripClose, stripAfter] = m;
    let before = text.slice(at, m.index);
    if (stripNext) before = before.trimStart();
    if (stripBefore === '-') before = before.trimEnd();
    let raw = content ?? '';
    if (stripOpen === '-') raw = raw.trimStart();
    if (stripClose === '-') raw = raw.trimEnd();
    parts.push({ text: before, raw: false }, { text: raw, raw: true });
    at = m.index + m[0].length;
    stripNext = stripAfter === '-';
  }
  const rest = text.slice(at);
  parts.push({ text: stripNext ? rest.trimStart() : rest, raw: false });
  return parts;
}

/**
 * Evaluates a string with {{ }} blocks. A string that is exactly one block keeps the value's
 * type (as Ansible does for "{{ true }}"); otherwise the parts are joined as text.
 */
export function evaluateTemplate(template: string, lookup: (name: string) => Value): TemplateResult {
  // Jinja's lexer turns every line break of the template's own text (\r\n, \r) into \n (the
  // values put in keep theirs) and drops one at its very end; Ansible then adds back as many \n
  // as the original text ended with (preserve_trailing_newlines).
  const normalized = template.replace(/\r\n?/g, '\n');
  const text = normalized.endsWith('\n') ? normalized.slice(0, -1) : normalized;
  const result = evaluateParts(text, lookup);
  const wanted = trailingNewlines(template);
  if (!result.ok || result.value === UNDEFINED || (wanted === 0 && text === normalized)) return result;
  const rendered = str(result.value);
  return { ...result, value: rendered + '\n'.repeat(Math.max(0, wanted - trailingNewlines(rendered))) };
}

/** How many \n end the text (Ansible's _count_newlines_from_end). */
function trailingNewlines(text: string): number {
  let n = 0;
  while (n < text.length && text[text.length - 1 - n] === '\n') n++;
  return n;
}

function evaluateParts(text: string, lookup: (name: string) => Value): TemplateResult {
  const parts = rawParts(text);
  if (parts.length === 1) return evaluateExpressions(text, lookup);
  const refs: string[] = [];
  let value = '';
  let undefinedPart = false;
  for (const part of parts) {
    if (part.raw || part.text === '') {
      value += part.text;
      continue;
    }
    const evaluated = evaluateExpressions(part.text, lookup);
    if (!evaluated.ok) return evaluated;
    refs.push(...evaluated.refs);
    if (evaluated.value === UNDEFINED) undefinedPart = true;
    else value += output(evaluated.value);
  }
  return { ok: true, value: undefinedPart ? UNDEFINED : value, refs };
}

/** A text without raw blocks: its {{ }} expressions evaluated. */
function evaluateExpressions(withComments: string, lookup: (name: string) => Value): TemplateResult {
  const text = withComments.replace(COMMENT, '');
  if (text.includes('{%')) return { ok: false, error: 'Jinja statements ({% %}) are not supported here, except {% raw %}...{% endraw %}' };
  const refs: string[] = [];
  try {
    const whole = /^\{\{(.*?)\}\}$/su.exec(text);
    if (whole && !whole[1]?.includes('}}')) {
      return { ok: true, value: evaluateExpression(whole[1] ?? '', lookup, refs), refs };
    }
    let undefinedPart = false;
    const value = text.replace(new RegExp(BLOCK.source, BLOCK.flags), (_m, inner: string) => {
      const part = evaluateExpression(inner, lookup, refs);
      if (part === UNDEFINED) undefinedPart = true;
      return part === UNDEFINED ? '' : output(part);
    });
    return { ok: true, value: undefinedPart ? UNDEFINED : value, refs };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}
