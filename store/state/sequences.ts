// Per-emitter sequence state (emitter_state, sequence_gaps): loaded by the
// processor per batch, and the periodic silence mark.
import { toClickHouseTime } from '../../lib/time.js';
import { execute, select, type Storage, type Tables } from '../client.js';

export interface EmitterStateRecord {
  source: string;
  last_seq: string;
  last_seen: string;
  last_heartbeat: string | null;
}

export interface OpenGapRecord {
  source: string;
  gap_from: string;
  gap_to: string;
  detected_at: string;
  detected_by_event: string;
  late_arrivals: string[];
}

export function loadEmitterStates(storage: Storage, tables: Tables, sources: string[]): Promise<EmitterStateRecord[]> {
  return select<EmitterStateRecord>(
    storage,
    `SELECT source, last_seq, last_seen, last_heartbeat FROM ${tables.emitterState} FINAL WHERE source IN {sources:Array(String)}`,
    { sources },
  );
}

export function loadOpenGaps(storage: Storage, tables: Tables, sources: string[]): Promise<OpenGapRecord[]> {
  return select<OpenGapRecord>(
    storage,
    `SELECT source, gap_from, gap_to, detected_at, detected_by_event, late_arrivals FROM ${tables.sequenceGaps} FINAL
     WHERE source IN {sources:Array(String)} AND closed_at IS NULL`,
    { sources },
  );
}

// Marks emitters that sent nothing, not even a heartbeat, for longer than
// allowed. Run periodically; the mark clears with the emitter's next event.
export async function markSilentEmitters(storage: Storage, tables: Tables, silentAfterMs: number, now = Date.now()): Promise<void> {
  await execute(
    storage,
    `INSERT INTO ${tables.emitterState}
      SELECT source, last_seq, last_seen, last_heartbeat,
             last_seen + toIntervalMillisecond({after:UInt64}), {now:DateTime64(3, 'UTC')}
      FROM ${tables.emitterState} FINAL
      WHERE silent_since IS NULL AND last_seen < {now:DateTime64(3, 'UTC')} - toIntervalMillisecond({after:UInt64})`,
    { after: silentAfterMs, now: toClickHouseTime(now) },
  );
}
