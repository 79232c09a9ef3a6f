import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { agentIdFromMachineId, goTrimSpace, uuidV5 } from '../../../src/settings/agent-id.ts';

const rows = readFileSync(fileURLToPath(new URL('../../fixtures/trento-agent/agent-ids.tsv', import.meta.url)), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => line.split('\t') as [string, string]);

describe('agentIdFromMachineId', () => {
  it('has rows to check', () => {
    expect(rows.length).toBeGreaterThanOrEqual(6);
  });

  it.each(rows)('machine-id %s gives %s', (machineId, agentId) => {
    expect(agentIdFromMachineId(machineId)).toBe(agentId);
    // /etc/machine-id ends with a newline: trimmed like the agent does.
    expect(agentIdFromMachineId(`${machineId}\n`)).toBe(agentId);
    expect(agentIdFromMachineId(` \t${machineId}\r\n\n`)).toBe(agentId);
  });

  it('would differ without trimming (the trento-facts.md test vector)', () => {
    expect(uuidV5('fb92284e-aa5e-47f6-a883-bf9469e7a0dc', 'dummy-machine-id\n')).toBe('33336f20-1843-55c0-9f43-e80ef9079075');
    expect(agentIdFromMachineId('dummy-machine-id\n')).toBe('779cdd70-e9e2-58ca-b18a-bf3eb3f71244');
  });

  it('refuses a missing or blank machine-id', () => {
    expect(() => agentIdFromMachineId(undefined)).toThrow(/machine-id/u);
    expect(() => agentIdFromMachineId('')).toThrow(/machine-id/u);
    expect(() => agentIdFromMachineId(' \n')).toThrow(/machine-id/u);
  });

  it('matches a published UUIDv5 vector (DNS namespace, python.org)', () => {
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'python.org')).toBe('886313e1-3b8a-5372-9b90-0c9aee199e5d');
  });

  it('trims like Go strings.TrimSpace', () => {
    expect(goTrimSpace('\u0085 id \u00a0')).toBe('id');
    expect(goTrimSpace('\ufeffid')).toBe('\ufeffid');
  });
});
