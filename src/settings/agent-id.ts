// The Trento agent ID, computed the way trento-agent computes it.
//
// Why here: Trento Web matches metrics to a host by the `agentID` label that trento.alloy puts
// on every sample. A wrong ID means the host silently shows no metrics, so the toolkit computes
// the same UUIDv5 as the agent from the host's /etc/machine-id (read during facts).
import { createHash } from 'node:crypto';

/** The namespace UUID the agent uses (trento-project/agent, internal/agent). */
export const AGENT_ID_NAMESPACE = 'fb92284e-aa5e-47f6-a883-bf9469e7a0dc';

function uuidBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/gu, '');
  if (!/^[0-9a-f]{32}$/iu.test(hex)) throw new Error(`not a UUID: ${uuid}`);
  return Buffer.from(hex, 'hex');
}

/** RFC 4122 name-based UUID, version 5 (SHA-1). */
export function uuidV5(namespace: string, name: string | Uint8Array): string {
  const hash = createHash('sha1').update(uuidBytes(namespace)).update(name).digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50; // version 5
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // RFC 4122 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// Go's strings.TrimSpace uses unicode.IsSpace: JS \s plus U+0085 (NEL), minus U+FEFF (BOM).
const GO_SPACE = '(?:[^\\S\\uFEFF]|\\u0085)';
const GO_TRIM = new RegExp(`^${GO_SPACE}+|${GO_SPACE}+$`, 'gu');

export function goTrimSpace(text: string): string {
  return text.replace(GO_TRIM, '');
}

/**
 * Agent ID from the content of /etc/machine-id. The agent trims surrounding whitespace first
 * (the file ends with a newline; without trimming the ID would differ from `trento-agent id`).
 * A missing or blank machine-id is an error, as it is for the agent: every such host would
 * otherwise get the same ID.
 */
export function agentIdFromMachineId(machineIdContent: string | undefined | null): string {
  const machineId = goTrimSpace(machineIdContent ?? '');
  if (machineId === '') {
    throw new Error('/etc/machine-id is missing or empty: the Trento agent ID cannot be computed (run systemd-machine-id-setup on the host)');
  }
  return uuidV5(AGENT_ID_NAMESPACE, machineId);
}
