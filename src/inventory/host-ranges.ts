// Host names as Ansible reads them from inventories: an optional `:port` (ansible's
// parse_address) and `[a:b(:step)]` ranges (ansible's expand_hostname_range), including the
// odd corners (zero-padding must have equal widths, letters, several ranges in one name).

const NUMERIC_RANGE = String.raw`\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const HEX_RANGE = String.raw`\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]`;
const ALNUM_RANGE = String.raw`\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const IPV6_COMPONENT = `(?:[0-9a-f]{1,4}|${HEX_RANGE})`;
const IPV4_COMPONENT = `(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|${NUMERIC_RANGE})`;
const WORD = String.raw`[\p{L}\p{N}\p{Mn}\p{Pc}]`; // Python's Unicode \w
const LABEL = `(?:${WORD}|${ALNUM_RANGE})(?:${WORD}|[_-]|${ALNUM_RANGE})*(?<![_-])`;

const BRACKETED_HOSTPORT = /^\[(.+)\]:([0-9]+)$/; // no s flag: Python's . stops at a line break
const HOSTPORT = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/s;
const IPV4 = new RegExp(`^(?:${IPV4_COMPONENT}\\.){3}${IPV4_COMPONENT}$`, 'i');
const I6 = IPV6_COMPONENT;
// Ansible writes `^ a | b | ... | m $` without a group, so `^` binds to the first alternative and
// `$` to the last only, and re.match anchors every one at the start: all but the last accept any
// text that merely begins like an IPv6 address ("fe80::1%eth0", a zone index). Kept so: the
// same text must be the same host here.
const IPV6_ALTERNATIVES = [
  `(?:${I6}:){7}${I6}`,
  `(?:${I6}:){1,6}:`,
  `(?:${I6}:)(?::${I6}){1,6}`,
  `(?:${I6}:){2}(?::${I6}){1,5}`,
  `(?:${I6}:){3}(?::${I6}){1,4}`,
  `(?:${I6}:){4}(?::${I6}){1,3}`,
  `(?:${I6}:){5}(?::${I6}){1,2}`,
  `(?:${I6}:){6}(?::${I6})`,
  `:(?::${I6}){1,6}`,
  `${I6}?::`,
  `(?:0:){6}(?:${I6}\\.){3}${I6}`,
  `::(?:ffff:)?(?:${I6}\\.){3}${I6}`,
  `(?:0:){5}ffff:(?:${I6}\\.){3}${I6}`,
];
const IPV6_PREFIX = new RegExp(`^(?:${IPV6_ALTERNATIVES.slice(0, -1).join('|')})`, 'i');
const IPV6_LAST = new RegExp(`^${IPV6_ALTERNATIVES.at(-1)}$`, 'i');
const isIpv6 = (text: string): boolean => IPV6_PREFIX.test(text) || IPV6_LAST.test(text);
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`, 'iu');

/**
 * Ansible's parse_address(address, allow_ranges=True): [host, port] or null when the text is
 * not a host identifier (Ansible then uses the text unchanged as the host name).
 */
export function parseAddress(address: string): { host: string; port: number | undefined } | null {
  let rest = address;
  let port: number | undefined;
  // Python applies both patterns in turn, the second to what the first left.
  for (const re of [BRACKETED_HOSTPORT, HOSTPORT]) {
    const m = re.exec(rest);
    if (m) {
      rest = m[1]!;
      port = Number(m[2]);
    }
  }
  if (IPV4.test(rest) || isIpv6(rest) || HOSTNAME.test(rest)) return { host: rest, port };
  return null;
}

/** The inventory plugins' _expand_hostpattern: host names and the port that applies to all. */
export function expandHostPattern(pattern: string): { hosts: string[]; port: number | undefined } {
  const parsed = parseAddress(pattern);
  const name = parsed ? parsed.host : pattern;
  const port = parsed ? parsed.port : undefined;
  return { hosts: name.includes('[') ? expandHostnameRange(name) : [name], port };
}

export class HostRangeError extends Error {}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** `db[01:10:3]node-[a:c]` -> every combination, leftmost range outermost, like Ansible. */
export function expandHostnameRange(line: string): string[] {
  const open = line.indexOf('[');
  const close = line.indexOf(']', open + 1);
  // Python: line.replace('[','|',1).replace(']','|',1).split('|') must give 3 parts.
  const first = line.replace('[', '|').replace(']', '|');
  const parts = first.split('|');
  if (parts.length !== 3 || open === -1 || close === -1) {
    throw new HostRangeError(`host range "${line}" is not of the form name[begin:end] or name[begin:end:step]`);
  }
  const [head, nrange, tail] = parts as [string, string, string];
  const bounds = nrange.split(':');
  if (bounds.length !== 2 && bounds.length !== 3) throw new HostRangeError('host range must be begin:end or begin:end:step');
  const beg = bounds[0] || '0';
  const end = bounds[1]!;
  const stepText = bounds[2] ?? '1';
  if (!end) throw new HostRangeError('host range must specify end value');
  let fill = (x: string | number): string => String(x);
  if (beg[0] === '0' && beg.length > 1) {
    if (beg.length !== end.length) throw new HostRangeError('host range must specify equal-length begin and end formats');
    fill = (x) => String(x).padStart(beg.length, '0');
  }
  const step = pyInt(stepText);
  if (step === 0) throw new HostRangeError('host range step must not be zero');
  let seq: (string | number)[];
  const iBeg = LETTERS.indexOf(beg);
  const iEnd = LETTERS.indexOf(end);
  if (beg.length === 1 && end.length === 1 && iBeg !== -1 && iEnd !== -1) {
    if (iBeg > iEnd) throw new HostRangeError('host range must have begin <= end');
    seq = [];
    if (step > 0) for (let i = iBeg; i <= iEnd; i += step) seq.push(LETTERS[i]!);
  } else {
    const b = pyInt(beg);
    const e = pyInt(end);
    seq = [];
    // Python's range(b, e + 1, step)
    if (step > 0) for (let i = b; i < e + 1; i += step) seq.push(i);
    else for (let i = b; i > e + 1; i += step) seq.push(i);
  }
  const hosts: string[] = [];
  for (const item of seq) {
    const name = head + fill(item) + tail;
    if (name.includes('[')) hosts.push(...expandHostnameRange(name));
    else hosts.push(name);
  }
  return hosts;
}

function pyInt(text: string): number {
  const t = text.trim().replace(/_/g, '');
  if (!/^[+-]?[0-9]+$/.test(t)) throw new HostRangeError(`invalid literal for int() with base 10: '${text}'`);
  return Number(t);
}
