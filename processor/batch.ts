// One batch through everything the processor does beyond the pure pipeline:
// drop redeliveries of events already stored, quarantine a different event
// reusing a stored id, raise the flags that need history (sequence, silence,
// revocations, token reuse), then store state first and events second. Both
// drivers (the Kafka consumer, embedded ingest) call prepareBatch then storeBatch.
import type { Storage, Tables } from '../store/client.js';
import type { EventRow } from '../schemas/row.js';
import { insertEvents, storedJws } from '../store/events.js';
import { insertQuarantineDropped, insertQuarantined, type QuarantineDropped, type QuarantineRow } from '../store/quarantine.js';
import { writeState, type StateWrite } from '../store/state/writes.js';
import type { Config } from '../lib/config.js';
import { quarantineRow, runPipeline, type PipelineDeps, type RawRecord, type RecordOutcome } from './pipeline.js';
import { SequenceState } from './state/sequences.js';
import { RevocationState } from './state/revocations.js';
import { TokenUseState } from './state/token-uses.js';
import { ChainState } from './state/chains.js';

export interface ProcessorState {
  sequences: SequenceState;
  revocations: RevocationState;
  tokenUses: TokenUseState;
  chains: ChainState;
}

export function createProcessorState(storage: Storage, tables: Tables, cfg: Pick<Config['processor'], 'emitterSilentAfterMs'>): ProcessorState {
  return {
    sequences: new SequenceState(storage, tables, cfg.emitterSilentAfterMs),
    revocations: new RevocationState(storage, tables),
    tokenUses: new TokenUseState(storage, tables),
    chains: new ChainState(storage, tables),
  };
}

// Each instance of a processor group caches state for the emitters it has
// seen; after a rebalance another member may have moved an emitter on, so a
// member that gets partitions reads everything from storage again.
export function forgetProcessorState(state: ProcessorState): void {
  state.sequences.forget();
  state.revocations.forget();
  state.tokenUses.forget();
  state.chains.forget();
}

export interface BatchDeps extends PipelineDeps {
  storage: Storage;
  tables: Tables;
  state: ProcessorState;
}

export interface Batch {
  // One per record, in order: what ingest answers.
  outcomes: RecordOutcome[];
  rows: EventRow[];
  quarantined: QuarantineRow[];
  // Refused records counted past a quarantine cap instead of stored (quarantine-caps.ts).
  dropped: QuarantineDropped[];
  // Exact redeliveries of events already stored (or earlier in the batch): answered as accepted, not stored again.
  redelivered: number;
  // Those redeliveries' rows: a sink that keeps its own record (the
  // transparency log) takes any it lacks (a crash after the events were
  // stored and before the sink had them), and skips the rest.
  redeliveredRows: EventRow[];
  stateWrites: StateWrite[];
  // Makes the staged state current; call once the batch is stored.
  commit(): void;
}

function storedCopies(deps: BatchDeps, outcomes: RecordOutcome[]): Promise<Map<string, string>> {
  const accepted = outcomes.flatMap((o) => (o.ok ? [o.row] : []));
  return storedJws(deps.storage, deps.tables, accepted.map((r) => r.id));
}

export async function prepareBatch(records: RawRecord[], deps: BatchDeps): Promise<Batch> {
  const { outcomes } = await runPipeline(records, deps);
  const seen = await storedCopies(deps, outcomes);

  const fresh: number[] = [];
  const redeliveredRows: EventRow[] = [];
  let redelivered = 0;
  outcomes.forEach((o, i) => {
    if (!o.ok) return;
    const prior = seen.get(o.id);
    if (prior === undefined) {
      seen.set(o.id, o.row.raw_jws);
      fresh.push(i);
    } else if (prior === o.row.raw_jws) {
      redelivered++;
      redeliveredRows.push(o.row);
    } else {
      const detail = 'an event with this id is already stored with different content';
      const { source, kid, id, tenant } = o.row;
      outcomes[i] = { ok: false, reason: 'replayed_id', detail, quarantine: quarantineRow(records[i]!, 'processor', 'replayed_id', detail, { source, kid, id, tenant }) };
    }
  });

  const events = fresh.map((i) => (outcomes[i] as Extract<RecordOutcome, { ok: true }>).event);
  const { sequences, revocations, tokenUses, chains } = deps.state;
  const sources = events.map((e) => e.source);
  await Promise.all([sequences.load(sources), revocations.load(events), tokenUses.load(events), chains.load(sources)]);
  const stages = { sequences: sequences.stage(), revocations: revocations.stage(), tokenUses: tokenUses.stage(), chains: chains.stage() };

  const rows: EventRow[] = [];
  for (const i of fresh) {
    const { row, event } = outcomes[i] as Extract<RecordOutcome, { ok: true }>;
    const flags = [
      ...stages.sequences.observe(row, records[i]!.receivedAt),
      ...stages.revocations.observe(event),
      ...stages.tokenUses.observe(event),
      ...stages.chains.observe(row, event, records[i]!.receivedAt),
    ];
    for (const flag of flags) if (!row.flags.includes(flag)) row.flags.push(flag);
    rows.push(row);
  }
  return {
    outcomes,
    rows,
    quarantined: outcomes.flatMap((o) => (o.ok ? [] : [o.quarantine])),
    dropped: [],
    redelivered,
    redeliveredRows,
    stateWrites: Object.values(stages).flatMap((s) => s.writes()).filter((w) => w.values.length > 0),
    commit: () => Object.values(stages).forEach((s) => s.commit()),
  };
}

// The events table is partitioned by month of the event's time, and ClickHouse
// refuses one insert touching more than 100 partitions
// (max_partitions_per_insert_block): a valid batch dated across more months
// (old events replayed, clock skew) is inserted in groups of at most 100
// months each, rather than refused as if storage were down.
export const MAX_MONTHS_PER_INSERT = 100;
export function byMonths(rows: readonly EventRow[], max = MAX_MONTHS_PER_INSERT): EventRow[][] {
  const months = new Map<string, EventRow[]>();
  for (const row of rows) {
    const month = row.time.slice(0, 7);
    const group = months.get(month);
    if (group) group.push(row);
    else months.set(month, [row]);
  }
  if (months.size <= max) return [rows as EventRow[]];
  const groups = [...months.values()];
  const inserts: EventRow[][] = [];
  for (let i = 0; i < groups.length; i += max) inserts.push(groups.slice(i, i + max).flat());
  return inserts;
}

// State first: if the process dies between the two, the redelivered batch
// meets state that already counts it, and its events are stored then.
export async function storeBatch(storage: Storage, tables: Tables, batch: Batch): Promise<void> {
  await writeState(storage, tables, batch.stateWrites);
  await Promise.all([
    ...byMonths(batch.rows).map((rows) => insertEvents(storage, tables, rows)),
    insertQuarantined(storage, tables, batch.quarantined),
    insertQuarantineDropped(storage, tables, batch.dropped),
  ]);
}
