// The processor's core: raw records in, stored rows and quarantined records
// out. No I/O but the key lookup, so both drivers (the Kafka consumer and
// embedded ingest) run exactly the same code.
import { createHash, randomUUID } from 'node:crypto';
import { inspectEnvelope, type Inspection } from '../schemas/envelope.js';
import type { EventRow } from '../schemas/row.js';
import type { QuarantineRow, QuarantineStage } from '../store/quarantine.js';
import type { QuarantineReason } from '../lib/errors.js';
import { toClickHouseTime } from '../lib/time.js';
import type { KeyResolver } from './key-resolver.js';
import { verifyEnvelope } from './verify.js';
import { normalise } from './normalise.js';
import type { SkewLimits } from './flags.js';
import type { ActorlogEvent } from '../schemas/event.js';

export interface KafkaCoordinates {
  topic: string;
  partition: number;
  offset: string;
}

export interface RawRecord {
  value: Buffer;
  receivedAt: number;
  kafka?: KafkaCoordinates;
  // Set when ingest already refused the record; it is quarantined as is.
  rejection?: { reason: QuarantineReason; detail: string };
  // Set when ingest ran in-process and already inspected the bytes (embedded
  // mode): the envelope is read once. Over Kafka the processor reads it again.
  inspection?: Inspection;
}

export type RecordOutcome =
  | { ok: true; id: string; row: EventRow; event: ActorlogEvent }
  | { ok: false; reason: QuarantineReason; detail: string; quarantine: QuarantineRow };

export interface PipelineResult {
  outcomes: RecordOutcome[];
  rows: EventRow[];
  quarantined: QuarantineRow[];
}

export interface PipelineDeps {
  keys: KeyResolver;
  eventMaxBytes: number;
  skew: SkewLimits;
}

export async function runPipeline(records: RawRecord[], deps: PipelineDeps): Promise<PipelineResult> {
  deps.keys.refresh();
  const outcomes = await Promise.all(records.map((record) => processRecord(record, deps)));
  const rows: EventRow[] = [];
  const quarantined: QuarantineRow[] = [];
  for (const outcome of outcomes) {
    if (outcome.ok) rows.push(outcome.row);
    else quarantined.push(outcome.quarantine);
  }
  return { outcomes, rows, quarantined };
}

async function processRecord(record: RawRecord, deps: PipelineDeps): Promise<RecordOutcome> {
  const inspection = record.inspection ?? inspectEnvelope(record.value, deps.eventMaxBytes);
  const claimed = inspection.claimed;
  const refuse = (stage: QuarantineStage, reason: QuarantineReason, detail: string): RecordOutcome => ({
    ok: false,
    reason,
    detail,
    quarantine: quarantineRow(record, stage, reason, detail, claimed),
  });

  if (record.rejection) return refuse('ingest', record.rejection.reason, record.rejection.detail);
  if (!inspection.ok) return refuse('processor', inspection.reason, inspection.detail);
  const verified = await verifyEnvelope(inspection, deps.keys, record.receivedAt);
  if (!verified.ok) return refuse('processor', verified.reason, verified.detail);
  const row = normalise(verified.event, { kid: verified.kid, rawJws: inspection.compact, ingestedAt: record.receivedAt, skew: deps.skew });
  return { ok: true, id: row.id, row, event: verified.event };
}

export function quarantineRow(
  record: RawRecord,
  stage: QuarantineStage,
  reason: QuarantineReason,
  detail: string,
  claimed: { source?: string; kid?: string; id?: string; tenant?: string },
): QuarantineRow {
  const { kafka } = record;
  return {
    // Kafka coordinates make a redelivered record land on the same row.
    quarantine_id: kafka ? `${kafka.topic}/${kafka.partition}/${kafka.offset}` : randomUUID(),
    received_at: toClickHouseTime(record.receivedAt),
    stage,
    reason,
    detail: detail.slice(0, 2048),
    claimed_source: claimed.source ?? '',
    claimed_kid: claimed.kid ?? '',
    claimed_id: claimed.id ?? '',
    claimed_tenant: claimed.tenant ?? '',
    raw_base64: record.value.toString('base64'),
    raw_sha256: createHash('sha256').update(record.value).digest('hex'),
    raw_bytes: record.value.byteLength,
    kafka_topic: kafka?.topic ?? '',
    kafka_partition: kafka?.partition ?? -1,
    kafka_offset: kafka ? Number(kafka.offset) : -1,
  };
}
