// The facts script's framing (src/facts/facts.sh): records "FLAGS KEYLEN VALUELEN\nKEYVALUE\n",
// lengths in bytes, FLAGS two letters (key, then value): r as is, b base64. The script keeps
// its output ASCII (anything else goes as base64), so the text the connection decoded as UTF-8
// has one character per byte and the lengths hold. Pure: unit-tested without a host.

export class RecordsError extends Error {}

const HEADER = /^([rb])([rb]) (\d+) (\d+)$/;

/** The line the script starts its records with: what a login file printed before it is skipped. */
export const RECORDS_START = '@@tp-facts 1\n';

function decode(flag: string, text: string): string {
  return flag === 'b' ? Buffer.from(text, 'base64').toString('utf8') : text;
}

/** The records of OUTPUT in order, as [key, value] (none before RECORDS_START). Stops at output cut short (the caller sees no
 *  "done" record); anything that is not a record is an error naming where it is. */
export function readRecords(output: string): [string, string][] {
  const out: [string, string][] = [];
  const begin = output.indexOf(RECORDS_START);
  if (begin < 0) return out;
  let at = begin + RECORDS_START.length;
  while (at < output.length) {
    const eol = output.indexOf('\n', at);
    if (eol < 0) break; // cut short inside a header
    const header = output.slice(at, eol);
    const m = HEADER.exec(header);
    if (!m) throw new RecordsError(`unexpected facts output at byte ${at}: "${header.slice(0, 60)}"`);
    const keyLength = Number(m[3]);
    const valueLength = Number(m[4]);
    const start = eol + 1;
    const end = start + keyLength + valueLength;
    if (end + 1 > output.length) break; // cut short inside a record
    if (output[end] !== '\n') throw new RecordsError(`facts output: the record at byte ${at} is not as long as it says (a byte that is not ASCII?)`);
    out.push([decode(m[1]!, output.slice(start, start + keyLength)), decode(m[2]!, output.slice(start + keyLength, end))]);
    at = end + 1;
  }
  return out;
}
