// Python's numbers as inventory values carry them. Ansible reads INI values with literal_eval,
// YAML with PyYAML and JSON with json.loads: ints of any size and floats that stay floats
// (`1e3` prints as 1000.0). JavaScript has one number type, exact only up to 2^53, so:
//   - a Python int is a `number` while it is a safe integer and a `bigint` beyond that;
//   - a Python float is a PyFloat, so `1.0` is never mistaken for the int 1.
// String() of each gives what Ansible writes for `{{ value }}` (str() in Python).

/** A Python float. valueOf() makes arithmetic and Number() work; toString() is Python's repr. */
export class PyFloat {
  constructor(readonly value: number) {}

  valueOf(): number {
    return this.value;
  }

  toString(): string {
    return pythonFloatRepr(this.value);
  }

  /** Plain JSON.stringify cannot write `1.0`; ansibleJson() writes the exact text. */
  toJSON(): number {
    return this.value;
  }
}

export type PyInt = number | bigint;

/** An int in the representation above: a safe `number` or, beyond 2^53, a `bigint`. */
export function pyInt(value: bigint): PyInt {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/** -x for an int or float, keeping its kind (Python: -0 is the int 0, -0.0 the float -0.0). */
export function negate(value: PyInt | PyFloat): PyInt | PyFloat {
  if (value instanceof PyFloat) return new PyFloat(-value.value);
  if (typeof value === 'bigint') return pyInt(-value);
  return value === 0 ? 0 : -value;
}

/** Python's repr(float) (and str()): shortest round-trip digits, `.0` on whole values, e-notation outside 1e-4..1e16. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() without a precision gives the shortest digits that read back as x, like Python.
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(x.toExponential())!;
  const sign = m[1]!;
  const digits = m[2]! + (m[3] ?? '');
  const exponent = Number(m[4]);
  if (exponent < -4 || exponent >= 16) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exponent).toString().padStart(2, '0');
    return `${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${e}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fraction = digits.slice(exponent + 1);
  return `${sign}${whole}.${fraction || '0'}`;
}

const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/;

/** json.loads of a JSON number token: an int when it has no fraction or exponent, else a float. */
export function jsonNumber(source: string): PyInt | PyFloat | undefined {
  const m = JSON_NUMBER.exec(source);
  if (!m) return undefined;
  return m[1] !== undefined || m[2] !== undefined ? new PyFloat(Number(source)) : pyInt(BigInt(source));
}

/** A number of either kind: how settings and listings recognise one. */
export function isPyNumber(value: unknown): value is PyInt | PyFloat {
  return typeof value === 'number' || typeof value === 'bigint' || value instanceof PyFloat;
}
