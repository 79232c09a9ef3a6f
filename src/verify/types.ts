// What --verify-prometheus found for one host: a leaf of types (no imports), so the output
// layer can carry it in events and reports without depending on the verify code.

/** Why a host's metrics did not arrive. */
export type ProofReason = 'no-series' | 'other-exporter' | 'no-fresh-sample' | 'up-0';

export interface Proof {
  /** The query Trento Web runs for this host. */
  query: string;
  exporterName: string;
  ok: boolean;
  /** `up` of the newest sample with that exporter_name (null: none). */
  up: number | null;
  /** When that sample was taken (ISO 8601, Prometheus' clock), null: none. */
  sampleAt: string | null;
  reason: ProofReason | null;
  message: string;
  /** How long the host was waited for, and the most it would have been (two scrape intervals). */
  waitedMs: number;
  limitMs: number;
  scrapeIntervalMs: number;
}
