// Where ingest hands events: the Kafka bus, or the pipeline in-process. Either
// way `accept` resolves only once everything it reports as accepted is durable
// (acknowledged by all in-sync replicas, or stored), and it also makes refused
// events durable in quarantine; it throws a retriable ActorlogError when it
// cannot, and then nothing in the request counts as accepted.
import type { Inspection } from '../schemas/envelope.js';
import type { QuarantineReason } from '../lib/errors.js';

export interface IngestItem {
  raw: Buffer;
  inspection: Inspection;
  receivedAt: number;
  // Who sent it: the authenticated emitter (unset with INGEST_AUTH=off) and the client address.
  origin: { emitter?: string; address: string };
}

export type ItemOutcome = { ok: true; id: string } | { ok: false; reason: QuarantineReason; detail: string };

export interface IngestSink {
  accept(items: IngestItem[]): Promise<ItemOutcome[]>;
  ready(): Promise<void>;
  close(): Promise<void>;
}

export function structuralOutcome(item: IngestItem): ItemOutcome {
  const { inspection } = item;
  return inspection.ok
    ? { ok: true, id: inspection.claimed.id ?? '' }
    : { ok: false, reason: inspection.reason, detail: inspection.detail };
}
