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
import { verifyEnvelopes, type Candidate } from './verify.js';
import { VerifyPool } from './verify-pool.js';
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
  // Who sent it, as ingest saw them (embedded: in-process; Kafka: headers).
  origin?: { emitter?: string; address?: string };
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
  // Where signatures are checked; absent: on this thread.
  verifier?: VerifyPool;
}

const INLINE = new VerifyPool(1);

export async function runPipeline(records: RawRecord[], deps: PipelineDeps): Promise<PipelineResult> {
  deps.keys.refresh();
  const outcomes: (RecordOutcome | undefined)[] = new Array(records.length);
  const inspections = records.map((record) => record.inspection ?? inspectEnvelope(record.value, deps.eventMaxBytes));
  const refuse = (i: number, stage: QuarantineStage, reason: QuarantineReason, detail: string): RecordOutcome => ({
    ok: false,
    reason,
    detail,
    quarantine: quarantineRow(records[i]!, stage, reason, detail, inspections[i]!.claimed),
  });

  const candidates: Candidate[] = [];
  const candidateOf: number[] = [];
  records.forEach((record, i) => {
    const inspection = inspections[i]!;
    if (record.rejection) outcomes[i] = refuse(i, 'ingest', record.rejection.reason, record.rejection.detail);
    else if (!inspection.ok) outcomes[i] = refuse(i, 'processor', inspection.reason, inspection.detail);
    else {
      candidateOf.push(i);
      candidates.push({ inspection, receivedAt: record.receivedAt });
    }
  });
  const verdicts = await verifyEnvelopes(candidates, deps.keys, deps.verifier ?? INLINE);
  verdicts.forEach((verified, c) => {
    const i = candidateOf[c]!;
    const record = records[i]!;
    if (!verified.ok) {
      outcomes[i] = refuse(i, 'processor', verified.reason, verified.detail);
      return;
    }
    const row = normalise(verified.event, { kid: verified.kid, rawJws: candidates[c]!.inspection.compact, ingestedAt: record.receivedAt, skew: deps.skew });
    outcomes[i] = { ok: true, id: row.id, row, event: verified.event };
  });

  const rows: EventRow[] = [];
  const quarantined: QuarantineRow[] = [];
  for (const outcome of outcomes as RecordOutcome[]) {
    if (outcome.ok) rows.push(outcome.row);
    else quarantined.push(outcome.quarantine);
  }
  return { outcomes: outcomes as RecordOutcome[], rows, quarantined };
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
    raw_truncated: 0,
    caller: record.origin?.emitter ?? '',
    address: record.origin?.address ?? '',
    kafka_topic: kafka?.topic ?? '',
    kafka_partition: kafka?.partition ?? -1,
    kafka_offset: kafka ? Number(kafka.offset) : -1,
  };
}
