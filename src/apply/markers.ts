// Reads the progress markers an apply script prints ("@@tp ..."), line by line as they arrive,
// so each change can be reported the moment it is made.

export type Marker =
  | { kind: 'begin'; step: number }
  | { kind: 'ok'; step: number }
  | { kind: 'failed'; step: number; rc: number; output: string }
  | { kind: 'warn'; step: number; message: string }
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
    case 'ok':
      return { kind, step: Number(rest[0]) };
    case 'failed':
      return { kind, step: Number(rest[0]), rc: Number(rest[1]), output: xb64(rest[2]) };
    case 'warn':
      return { kind, step: Number(rest[0]), message: xb64(rest[1]) };
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

/** Splits a stream into lines, calling back for each marker. */
export function markerReader(onMarker: (m: Marker) => void): (chunk: string) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk;
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const m = parseMarker(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      if (m) onMarker(m);
    }
  };
}
