// The requests of OpenSSH's multiplexing protocol the toolkit makes itself (PROTOCOL.mux in
// OpenSSH's sources), through a master's control socket: terminate, as `ssh -O exit` does, and
// stop listening, as `ssh -O stop` does (sessions others opened on the master finish first, then
// it exits). An ssh process per host only to say "exit" cost more controller CPU than the run's
// whole facts round trip on a converged host.
import { connect } from 'node:net';

const MUX_MSG_HELLO = 0x00000001;
const MUX_C_TERMINATE = 0x10000005;
const MUX_C_STOP_LISTENING = 0x10000009;
const MUX_S_OK = 0x80000001;
const MUX_S_PERMISSION_DENIED = 0x80000002;
const MUX_S_FAILURE = 0x80000003;
const PROTOCOL_VERSION = 4;
const REQUEST_ID = 1;

export type TerminateOutcome =
  /** The master answered MUX_S_OK: it is exiting, or (stop) takes no new session and exits after
   *  the open ones (removing its socket at once). */
  | { kind: 'terminated' }
  /** Nothing listens on the socket (none was made, or the master is gone already). */
  | { kind: 'no-master' }
  /** The master refused or did not answer as OpenSSH does: the caller falls back to `ssh -O exit`. */
  | { kind: 'failed'; reason: string };

/** One packet: uint32 length, then uint32 words (every message this module sends is only words). */
function packet(...words: number[]): Buffer {
  const out = Buffer.alloc(4 + 4 * words.length);
  out.writeUInt32BE(4 * words.length, 0);
  for (const [i, word] of words.entries()) out.writeUInt32BE(word >>> 0, 4 + 4 * i);
  return out;
}

/** The packets complete in `buffer`, and what is left of it. */
function takePackets(buffer: Buffer): { packets: Buffer[]; rest: Buffer } {
  const packets: Buffer[] = [];
  let at = 0;
  while (buffer.length - at >= 4) {
    const length = buffer.readUInt32BE(at);
    if (buffer.length - at - 4 < length) break;
    packets.push(buffer.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return { packets, rest: buffer.subarray(at) };
}

/** The reason string of MUX_S_PERMISSION_DENIED / MUX_S_FAILURE (type, request id, string). */
function reasonOf(body: Buffer): string {
  if (body.length < 12) return '(no reason given)';
  const length = body.readUInt32BE(8);
  return body.subarray(12, 12 + length).toString('utf8');
}

/**
 * Asks the master listening on `socketPath` to terminate (or, `stop`, to stop listening): hello
 * both ways (version 4), then MUX_C_TERMINATE / MUX_C_STOP_LISTENING, as ssh's own mux client
 * does. Resolves, never rejects.
 */
export function terminateMaster(socketPath: string, timeoutMs = 5000, request: 'terminate' | 'stop' = 'terminate'): Promise<TerminateOutcome> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    let buffer: Buffer = Buffer.alloc(0);
    let helloSeen = false;
    const done = (outcome: TerminateOutcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done({ kind: 'failed', reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
    socket.on('connect', () => socket.write(packet(MUX_MSG_HELLO, PROTOCOL_VERSION)));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      done(error.code === 'ENOENT' || error.code === 'ECONNREFUSED' ? { kind: 'no-master' } : { kind: 'failed', reason: error.message }),
    );
    // A master that exits as it answers may close before we read the answer: it is going.
    socket.on('close', () => done(helloSeen ? { kind: 'terminated' } : { kind: 'failed', reason: 'the master closed the socket without a hello' }));
    socket.on('data', (chunk: Buffer) => {
      const { packets, rest } = takePackets(Buffer.concat([buffer, chunk]));
      buffer = rest;
      for (const body of packets) {
        const type = body.length >= 4 ? body.readUInt32BE(0) : -1;
        if (!helloSeen) {
          if (type !== MUX_MSG_HELLO || body.length < 8 || body.readUInt32BE(4) !== PROTOCOL_VERSION) {
            return done({ kind: 'failed', reason: 'the master does not speak mux protocol version 4' });
          }
          helloSeen = true;
          socket.write(packet(request === 'stop' ? MUX_C_STOP_LISTENING : MUX_C_TERMINATE, REQUEST_ID));
          continue;
        }
        if (type === MUX_S_OK) return done({ kind: 'terminated' });
        if (type === MUX_S_PERMISSION_DENIED || type === MUX_S_FAILURE) return done({ kind: 'failed', reason: reasonOf(body) });
        return done({ kind: 'failed', reason: `unexpected answer 0x${type.toString(16)}` });
      }
    });
  });
}
