// Reads the progress markers an apply script prints ("@@tp ..."), line by line as they arrive,
// so each change can be reported the moment it is made.

export type Marker =
  | { kind: 'begin'; step: number }
  | { kind: 'ok'; step: number; output?: string }
  | { kind: 'failed'; step: number; rc: number; output: string }
  | { kind: 'warn'; step: number; message: string }
  /** What the step found done already, said with its summary (packages installed meanwhile). */
  | { kind: 'note'; step: number; note: string }
  | { kind: 'verified'; check: string }
  | { kind: 'unverified'; check: string; output: string }
  | { kind: 'applied' }
  | { kind: 'done' };

const b64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');
/** Payloads that may be empty carry an "x" in front, so the field is never missing. */
const xb64 = (s: string | undefined) => b64((s ?? 'x').slice(1));

export function parseMarker(line: string): Marker | null {
  if (!line.startsWith('@@tp ')) return null;
  const [kind, ...rest] = line.slice(5).trim().split(' ');
  switch (kind) {
    case 'begin':
      return { kind, step: Number(rest[0]) };
    case 'ok':
      // the end of the step's output, at -v (TP_STEP_OUTPUT)
      return { kind, step: Number(rest[0]), ...(rest[1] !== undefined ? { output: xb64(rest[1]) } : {}) };
    case 'failed':
      return { kind, step: Number(rest[0]), rc: Number(rest[1]), output: xb64(rest[2]) };
    case 'warn':
      return { kind, step: Number(rest[0]), message: xb64(rest[1]) };
    case 'note':
      return { kind, step: Number(rest[0]), note: xb64(rest[1]) };
    case 'verified':
      return { kind, check: b64(rest[0]) };
    case 'unverified':
      return { kind, check: b64(rest[0]), output: xb64(rest[1]) };
    case 'applied':
    case 'done':
      return { kind };
    default:
      return null;
  }
}

/** The longest line kept while it is incomplete: a marker is a few KiB (a failed step's last
 *  4,000 bytes of output, base64); a longer line is no marker, and only its end is looked for. */
const MAX_MARKER_LINE = 1024 * 1024;

/** Splits a stream into lines, calling back for each marker. Each chunk is scanned once (a host
 *  sending megabytes without a line break costs no rescans of what came before), and what is kept
 *  of an unfinished line is bounded. */
export function markerReader(onMarker: (m: Marker) => void): (chunk: string) => void {
  let pending = '';
  let overlong = false;
  return (chunk) => {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
      const line = pending + chunk.slice(start, nl);
      const m = overlong ? null : parseMarker(line);
      pending = '';
      overlong = false;
      start = nl + 1;
      if (m) onMarker(m);
    }
    if (overlong) return;
    pending += chunk.slice(start);
    if (pending.length > MAX_MARKER_LINE) {
      pending = '';
      overlong = true;
    }
  };
}
