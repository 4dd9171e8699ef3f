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

export interface FallingSilent {
  source: string;
  last_seen: string;
  // of the emitter's latest event: findings go to its tenant's subscribers
  tenant: string;
}

// The emitters the next mark will mark silent (the same condition).
export async function emittersFallingSilent(storage: Storage, tables: Tables, silentAfterMs: number, now = Date.now()): Promise<FallingSilent[]> {
  const quiet = await select<{ source: string; last_seen: string }>(
    storage,
    `SELECT source, last_seen FROM ${tables.emitterState} FINAL
     WHERE silent_since IS NULL AND last_seen < {now:DateTime64(3, 'UTC')} - toIntervalMillisecond({after:UInt64})`,
    { after: silentAfterMs, now: toClickHouseTime(now) },
  );
  if (quiet.length === 0) return [];
  const tenants = await select<{ source: string; tenant: string }>(
    storage,
    `SELECT source, argMax(tenant, time) AS tenant FROM ${tables.events} WHERE source IN {sources:Array(String)} GROUP BY source`,
    { sources: quiet.map((q) => q.source) },
  );
  const tenantOf = new Map(tenants.map((t) => [t.source, t.tenant]));
  return quiet.map((q) => ({ ...q, tenant: tenantOf.get(q.source) ?? '' }));
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
