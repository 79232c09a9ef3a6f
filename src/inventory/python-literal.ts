// Python's ast.literal_eval, as far as INI inventories need it. Ansible's INI plugin runs every
// value through literal_eval and keeps the raw text when that fails, so `port=22` is a number,
// `flag=True` a boolean, `v=1.10` the float 1.1, `a=1,2` a list and `x=yes` the string "yes".
// Ints keep every digit and floats stay floats (see numbers.ts).

import { negate, PyFloat, pyInt, type PyInt } from './numbers.ts';
import { setOwn } from './records.ts';

/** literal_eval raised TypeError (e.g. a list as a dict key): Ansible fails the whole file then. */
export class LiteralTypeError extends Error {}

/**
 * Marker thrown for anything literal_eval rejects with SyntaxError/ValueError. One shared
 * instance: most INI values (names, addresses) are not literals, and a new Error per value
 * captured a stack trace each time (a third of a 10,000-host inventory's load).
 */
class NotLiteral extends Error {}
const NOT_LITERAL = new NotLiteral();

type Token =
  | { kind: 'num'; value: PyInt | PyFloat | 'complex' }
  | { kind: 'str'; value: string; bytes: boolean }
  | { kind: 'name'; value: string }
  | { kind: 'op'; value: string }
  | { kind: 'end' };

/**
 * The value Ansible's INI plugin stores for `text`: the literal if it is one, else the text.
 * Throws LiteralTypeError where Python raises TypeError (Ansible then fails to parse the file).
 */
export function iniValue(text: string): unknown {
  // The common case, a bare word (hana, root, eth0): a Python name that is not a constant,
  // which literal_eval rejects.
  if (BARE_NAME.test(text) && text !== 'True' && text !== 'False' && text !== 'None') return text;
  try {
    return literalEval(text);
  } catch (e) {
    if (e instanceof NotLiteral) return text;
    throw e;
  }
}

const BARE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function literalEval(text: string): unknown {
  const tokens = tokenize(text.replace(/^[ \t]+/, ''));
  let pos = 0;
  const peek = (): Token => tokens[pos]!;
  const next = (): Token => tokens[pos++]!;
  const isOp = (t: Token, v: string): boolean => t.kind === 'op' && t.value === v;

  // Expression nodes are evaluated directly; `signedNumber` marks values literal_eval accepts
  // as operands of unary minus (int/float constants only, not bools).
  interface Node {
    value: unknown;
    kind: 'num' | 'complex' | 'other' | 'tuple';
  }

  function expression(): Node {
    const first = term();
    if (isOp(peek(), ',')) {
      // A bare tuple: `1, 2` is (1, 2)
      const items = [first.value];
      while (isOp(peek(), ',')) {
        next();
        if (atExpressionEnd()) break;
        items.push(term().value);
      }
      return { value: items, kind: 'tuple' };
    }
    return first;
  }

  function atExpressionEnd(): boolean {
    const t = peek();
    return t.kind === 'end' || (t.kind === 'op' && [')', ']', '}', ':'].includes(t.value));
  }

  function term(): Node {
    let left = unary();
    // literal_eval accepts `a + bj` / `a - bj` (complex numbers) only.
    while (isOp(peek(), '+') || isOp(peek(), '-')) {
      next();
      const right = unary();
      if ((left.kind !== 'num' && left.kind !== 'complex') || right.kind !== 'complex') throw NOT_LITERAL;
      left = { value: 'complex', kind: 'complex' };
    }
    // Any other operator makes it a non-literal expression (ValueError) or a syntax error.
    const t = peek();
    if (t.kind === 'op' && !['+', '-', ',', ')', ']', '}', ':'].includes(t.value)) throw NOT_LITERAL;
    if (t.kind !== 'op' && t.kind !== 'end') throw NOT_LITERAL;
    return left;
  }

  function unary(): Node {
    const t = peek();
    if (isOp(t, '-') || isOp(t, '+')) {
      next();
      const operand = atom();
      if (operand.kind === 'num') return { value: isOp(t, '-') ? negate(operand.value as PyInt | PyFloat) : operand.value, kind: 'num' };
      if (operand.kind === 'complex') return operand;
      throw NOT_LITERAL;
    }
    return atom();
  }

  function atom(): Node {
    const t = next();
    switch (t.kind) {
      case 'num':
        return t.value === 'complex' ? { value: 'complex', kind: 'complex' } : { value: t.value, kind: 'num' };
      case 'str': {
        let value = t.value;
        const bytes = t.bytes;
        // Adjacent literals concatenate; mixing bytes and str is a SyntaxError.
        while (peek().kind === 'str') {
          const more = next() as Extract<Token, { kind: 'str' }>;
          if (more.bytes !== bytes) throw NOT_LITERAL;
          value += more.value;
        }
        return { value, kind: 'other' };
      }
      case 'name':
        if (t.value === 'True') return { value: true, kind: 'other' };
        if (t.value === 'False') return { value: false, kind: 'other' };
        if (t.value === 'None') return { value: null, kind: 'other' };
        if (t.value === 'set' && isOp(peek(), '(') && isOp(tokens[pos + 1]!, ')')) {
          pos += 2;
          return { value: [], kind: 'other' };
        }
        throw NOT_LITERAL;
      case 'op':
        if (t.value === '(') {
          if (isOp(peek(), ')')) {
            next();
            return { value: [], kind: 'other' };
          }
          const inner = expression();
          expectOp(')');
          return inner.kind === 'tuple' ? { value: inner.value, kind: 'other' } : inner;
        }
        if (t.value === '[') return { value: sequence(']'), kind: 'other' };
        if (t.value === '{') return { value: braces(), kind: 'other' };
        throw NOT_LITERAL;
      default:
        throw NOT_LITERAL;
    }
  }

  function sequence(close: string): unknown[] {
    const items: unknown[] = [];
    while (!isOp(peek(), close)) {
      items.push(term().value);
      if (isOp(peek(), ',')) next();
      else break;
    }
    expectOp(close);
    return items;
  }

  function braces(): unknown {
    if (isOp(peek(), '}')) {
      next();
      return {};
    }
    const first = term().value;
    if (isOp(peek(), ':')) {
      const result: Record<string, unknown> = {};
      next();
      setOwn(result, dictKey(first), term().value);
      while (isOp(peek(), ',')) {
        next();
        if (isOp(peek(), '}')) break;
        const key = term().value;
        expectOp(':');
        setOwn(result, dictKey(key), term().value);
      }
      expectOp('}');
      return result;
    }
    // A set literal; Ansible would fail to print a set as JSON, a list is the closest thing.
    const items = [setItem(first)];
    while (isOp(peek(), ',')) {
      next();
      if (isOp(peek(), '}')) break;
      items.push(setItem(term().value));
    }
    expectOp('}');
    return [...new Map(items.map((v) => [setKey(v), v])).values()];
  }

  function expectOp(v: string): void {
    if (!isOp(next(), v)) throw NOT_LITERAL;
  }

  const node = expression();
  if (peek().kind !== 'end') throw NOT_LITERAL;
  if (node.kind === 'complex') throw NOT_LITERAL; // complex numbers: keep the text
  return node.value;
}

function dictKey(key: unknown): string {
  if (key !== null && typeof key === 'object' && !(key instanceof PyFloat))
    throw new LiteralTypeError(`unhashable type: '${Array.isArray(key) ? 'list' : 'dict'}'`);
  // json.dumps turns non-string keys into strings the same way.
  if (key === true) return 'true';
  if (key === false) return 'false';
  if (key === null) return 'null';
  return String(key);
}

/** Equal set members collapse to the first: 1, 1.0 and 10**0 are one member in Python too. */
function setKey(v: unknown): string {
  if (typeof v === 'bigint') return `n${v}`;
  const n = v instanceof PyFloat ? v.value : v;
  if (typeof n === 'number') return Number.isInteger(n) ? `n${BigInt(n)}` : `n${n}`;
  return JSON.stringify(v);
}

function setItem(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && !(v instanceof PyFloat)) throw new LiteralTypeError(`unhashable type: '${Array.isArray(v) ? 'list' : 'dict'}'`);
  return v;
}

// --- tokenizer -------------------------------------------------------------------------------

const DIGITPART = '[0-9](?:_?[0-9])*';
const EXPONENT = `[eE][+-]?${DIGITPART}`;
const POINTFLOAT = `(?:(?:${DIGITPART})?\\.${DIGITPART}|${DIGITPART}\\.)`;
const FLOAT = `(?:${POINTFLOAT}(?:${EXPONENT})?|${DIGITPART}${EXPONENT})`;
const NUMBER_RE = new RegExp(
  '^(?:' +
    `(?<imag>(?:${FLOAT}|${DIGITPART})[jJ])` +
    `|(?<float>${FLOAT})` +
    '|(?<hex>0[xX](?:_?[0-9a-fA-F])+)|(?<oct>0[oO](?:_?[0-7])+)|(?<bin>0[bB](?:_?[01])+)' +
    '|(?<dec>[1-9](?:_?[0-9])*|0+(?:_?0)*)' +
    ')',
);
const STRING_PREFIX_RE = /^(?:[rRuUbBfF]|[bB][rR]|[rR][bB]|[fF][rR]|[rR][fF])?(?=['"])/;
const NAME_RE = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*/;

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\f' || ch === '\r' || ch === '\n') {
      i++;
      continue;
    }
    if (ch === '#') break; // a comment runs to the end of the (single-line) value
    const rest = src.slice(i);
    const prefix = STRING_PREFIX_RE.exec(rest);
    if (prefix) {
      const [value, length, bytes] = readString(src, i + prefix[0].length, prefix[0].toLowerCase());
      tokens.push({ kind: 'str', value, bytes });
      i += prefix[0].length + length;
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = NUMBER_RE.exec(rest);
      if (!m) throw NOT_LITERAL;
      const after = src[i + m[0].length] ?? '';
      if (/[A-Za-z0-9_.]/.test(after)) throw NOT_LITERAL; // e.g. 1.2.3, 01, 10abc
      const g = m.groups!;
      const digits = m[0].replace(/_/g, '');
      let value: PyInt | PyFloat | 'complex';
      if (g.imag) value = 'complex';
      else if (g.float) value = new PyFloat(Number(digits));
      // BigInt reads 0x/0o/0b prefixes and decimal digits (leading zeros too) exactly.
      else value = pyInt(BigInt(digits));
      tokens.push({ kind: 'num', value });
      i += m[0].length;
      continue;
    }
    const name = NAME_RE.exec(rest);
    if (name) {
      tokens.push({ kind: 'name', value: name[0] });
      i += name[0].length;
      continue;
    }
    if ('()[]{},:+-'.includes(ch)) {
      tokens.push({ kind: 'op', value: ch });
      i++;
      continue;
    }
    // Other operators (*, /, =, <, ., @, ...) never form a literal.
    tokens.push({ kind: 'op', value: ch });
    i++;
  }
  tokens.push({ kind: 'end' });
  return tokens;
}

/** Reads a Python string literal starting at its opening quote: [value, length, isBytes]. */
function readString(src: string, start: number, prefix: string): [string, number, boolean] {
  if (prefix.includes('f')) throw NOT_LITERAL; // f-strings are not literals
  const raw = prefix.includes('r');
  const bytes = prefix.includes('b');
  const q = src[start]!;
  const triple = src.startsWith(q.repeat(3), start);
  const delim = triple ? q.repeat(3) : q;
  let i = start + delim.length;
  let body = '';
  for (;;) {
    if (i >= src.length) throw NOT_LITERAL; // unterminated
    if (src.startsWith(delim, i)) break;
    const c = src[i]!;
    if (!triple && c === '\n') throw NOT_LITERAL;
    if (c === '\\') {
      if (i + 1 >= src.length) throw NOT_LITERAL;
      body += c + src[i + 1]!;
      i += 2;
      continue;
    }
    body += c;
    i++;
  }
  const length = prefix.length === 0 ? i + delim.length - start : i + delim.length - start;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range, NUL included, is what bytes literals allow
  if (bytes && /[^\x00-\x7f]/.test(body)) throw NOT_LITERAL; // bytes can only contain ASCII
  return [raw ? body : unescapeBody(body, bytes), length, bytes];
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\n': '',
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

function unescapeBody(body: string, bytes: boolean): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[i + 1]!;
    i++;
    if (e in SIMPLE_ESCAPES) {
      out += SIMPLE_ESCAPES[e];
      continue;
    }
    if (/[0-7]/.test(e)) {
      const m = /^[0-7]{1,3}/.exec(body.slice(i))![0];
      out += String.fromCodePoint(parseInt(m, 8));
      i += m.length - 1;
      continue;
    }
    const hexLen = e === 'x' ? 2 : !bytes && e === 'u' ? 4 : !bytes && e === 'U' ? 8 : 0;
    if (hexLen) {
      const hex = body.slice(i + 1, i + 1 + hexLen);
      if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(hex)) throw NOT_LITERAL;
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) throw NOT_LITERAL;
      out += String.fromCodePoint(cp);
      i += hexLen;
      continue;
    }
    // \N{NAME}: Python gives the character when it knows the name and refuses the literal (Ansible
    // then keeps the text as written) when it does not; Node has no table of Unicode names to tell.
    if (!bytes && e === 'N' && /^\{[^}]+\}/.test(body.slice(i + 1)))
      throw new LiteralTypeError('a \\N{NAME} escape cannot be read here; write the character itself');
    if (!bytes && e === 'N') throw NOT_LITERAL; // a \N without a name: Python refuses the literal
    out += `\\${e}`; // unknown escapes keep the backslash
  }
  return out;
}
