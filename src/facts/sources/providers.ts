// Fact source "providers" (providers.sh): what the verify step checks, read once without waiting,
// so a host with nothing to change is proven by the facts round trip (src/plan/checks.ts).
import type { FactSource, ProviderProbes } from '../types.ts';

const yesNo = (value: string | undefined): boolean | undefined => (value === undefined ? undefined : value === 'yes');
/** A whole number (seconds, a count), undefined when absent. */
const seconds = (value: string | undefined): number | undefined => (value && /^\d+$/.test(value) ? Number(value) : undefined);

export const providers: FactSource<'probes'> = {
  name: 'providers',
  parse: (r) => {
    const probes: ProviderProbes = {
      nodeExporterServes: yesNo(r.get('probe:node-exporter-serves')),
      alloyReady: yesNo(r.get('probe:alloy-ready')),
      alloyRunsTrento: yesNo(r.get('probe:alloy-runs-trento')),
      alloyLastSent: seconds(r.get('probe:alloy-last-sent')),
      alloyFailed: seconds(r.get('probe:alloy-failed')),
      hostNow: seconds(r.get('probe:now')),
    };
    return { facts: { probes: Object.fromEntries(Object.entries(probes).filter(([, v]) => v !== undefined)) } };
  },
};
