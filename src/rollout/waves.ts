// Waves (Ansible's play keywords `serial` and `max_fail_percentage`, here flags): which hosts go
// in which wave, and whether a finished wave stops the rollout. Pure: no I/O, no state; run.ts
// and the tests call it. The meaning is ansible-core's, read from its source:
// executor/playbook_executor.py (_get_serialized_batches, the "entire batch failed" break),
// utils/helpers.py (pct_to_int) and plugins/strategy/linear.py (the max_fail_percentage test).

/** One element of --serial: a host count, or a percentage of all the selected hosts. */
export type SerialItem = { count: number } | { percent: number };

export class WaveSpecError extends Error {}

/**
 * `--serial 2`, `--serial 30%`, `--serial 1,10%,50%`. Whole numbers only, as Ansible's int()
 * (so "12.5%" is refused, not rounded). 0 is Ansible's "every remaining host in one wave".
 */
export function parseSerial(text: string): SerialItem[] {
  const parts = text.split(',').map((p) => p.trim());
  return parts.map((p) => {
    const m = /^(\d+)(%?)$/.exec(p);
    if (!m) {
      throw new WaveSpecError(
        `--serial needs a host count, a percentage or a list of them (e.g. 2, 25% or 1,10%,50%), not ${JSON.stringify(text)}` +
          (p === '' ? ' (an empty element)' : ` (${JSON.stringify(p)})`),
      );
    }
    return m[2] ? { percent: Number(m[1]) } : { count: Number(m[1]) };
  });
}

/** `--max-fail-percentage 10` or `10%`, a number from 0 (Ansible's isa 'percent': a float, '%' optional). */
export function parseMaxFailPercentage(text: string): number {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(text.trim());
  if (!m) throw new WaveSpecError(`--max-fail-percentage needs a percentage from 0 (e.g. 0, 10 or 25%), not ${JSON.stringify(text)}`);
  return Number(m[1]);
}

/**
 * A wave's size from one --serial element: Ansible's pct_to_int(value, all hosts): a percentage
 * of every selected host (not of those left), rounded down, at least 1. As Ansible computes it,
 * in floating point: 29% of 100 is 28 (0.29 * 100 = 28.999...), and so it stays here.
 */
function sizeOf(item: SerialItem, total: number): number {
  if ('count' in item) return item.count;
  return Math.floor((item.percent / 100) * total) || 1;
}

/**
 * The waves, in the hosts' (play) order. The last --serial element repeats until every host
 * has a wave; a size of 0 puts every remaining host in one wave; a size beyond what is left
 * takes what is left. No --serial (an empty list): one wave of all hosts.
 */
export function wavesOf<T>(hosts: readonly T[], serial: readonly SerialItem[]): T[][] {
  const items = serial.length ? serial : [{ count: 0 }];
  const out: T[][] = [];
  let next = 0;
  let item = 0;
  while (next < hosts.length) {
    const size = sizeOf(items[item]!, hosts.length);
    if (size <= 0) {
      out.push(hosts.slice(next));
      break;
    }
    out.push(hosts.slice(next, next + size));
    next += size;
    item = Math.min(item + 1, items.length - 1);
  }
  return out;
}

export interface WaveVerdict {
  stop: boolean;
  /** Why the rollout stops here (for the recap and the report). */
  reason?: string;
}

/**
 * Whether later waves may start after this one. Ansible stops when the failed hosts of the
 * batch are strictly more than max_fail_percentage of the batch's hosts (linear.py:
 * failed / batch_size > pct), and, with or without max_fail_percentage, when every host of
 * the batch failed (playbook_executor.py). `failed` counts unreachable hosts too: the
 * "entire batch" rule does in Ansible; its percentage test does not (ansible/ansible#56265,
 * an open bug), and a rollout must not go on past a wave it could not reach.
 */
export function waveVerdict(size: number, failed: number, maxFailPercentage?: number, unreachable = 0): WaveVerdict {
  // Of the `failed`, `unreachable` could not be reached: named so, as the recap and the report do.
  if (size > 0 && failed >= size) {
    const what = unreachable === 0 ? 'failed' : unreachable >= failed ? 'was unreachable' : 'failed or was unreachable';
    const some = unreachable > 0 && unreachable < failed ? `, ${unreachable} unreachable` : '';
    return { stop: true, reason: `every host of the wave ${what} (${failed} of ${size}${some})` };
  }
  // failed / size > pct / 100, in whole numbers where it can be (no float rounding at the edge).
  if (maxFailPercentage !== undefined && failed * 100 > maxFailPercentage * size) {
    const what = unreachable === 0 ? 'failed' : unreachable >= failed ? 'unreachable' : `failed or unreachable (${unreachable} unreachable)`;
    return { stop: true, reason: `${failed} of ${size} host(s) ${what}, more than --max-fail-percentage ${maxFailPercentage}` };
  }
  return { stop: false };
}

/** --serial as the admin would write it again ("1,10%,50%"). */
export function serialText(serial: readonly SerialItem[]): string {
  return serial.map((i) => ('count' in i ? String(i.count) : `${i.percent}%`)).join(',');
}
