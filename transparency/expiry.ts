// The expiry job: removes each tenant's events older than its retention,
// except what a legal hold covers, and only events whose leaf a published
// checkpoint already covers. Before removing anything it stores a signed
// expiry record naming the leaves (ClickHouse and the checkpoint directory),
// so `actorlog verify` can tell an expiry from a deletion. The leaves and
// interior nodes stay: proofs of every other event remain valid.
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../lib/config.js';
import { signNote } from '../lib/note/index.js';
import type { Storage, Tables } from '../store/client.js';
import { deleteExpiredEvents, expiringLeaves, insertExpiryRecord, listHolds, storedTenants } from '../store/retention.js';
import { latestCheckpoint } from '../store/transparency-log.js';
import { openCheckpoint } from './verify.js';
import { eventsDigest, formatExpiryRecord, recordId } from './expiry-record.js';
import type { LogKey } from './log-key.js';

const DAY_MS = 86_400_000;
// Leaves per record: keeps one record's note and one delete bounded.
const PER_RECORD = 10_000;

export interface ExpiryDeps {
  storage: Storage;
  tables: Tables;
  key: LogKey;
  // The checkpoint directory: records are written beside the checkpoints.
  dir: string;
}

export interface ExpiryDone {
  record_id: string;
  tenant: string;
  count: number;
  note: string;
}

// Days to keep `tenant`'s events, or undefined: forever.
export function retentionDays(retention: Config['retention'], tenant: string): number | undefined {
  const days = tenant in retention.days ? retention.days[tenant] : retention.defaultDays;
  return days && days > 0 ? days : undefined;
}

// One tenant: everything older than `before`, in records of PER_RECORD leaves.
export async function expireTenant(deps: ExpiryDeps, tenant: string, before: number, now = Date.now()): Promise<ExpiryDone[]> {
  const { storage, tables, key, dir } = deps;
  const checkpoint = await latestCheckpoint(storage, tables);
  if (!checkpoint) return [];
  const held = await listHolds(storage, tables, { tenants: [tenant] }, { activeOnly: true });
  // A hold on the whole tenant (no human, session or time range) keeps it all.
  if (held.some((h) => h.human_sub === '' && h.session_id === '' && h.from_time === null && h.to_time === null)) return [];
  const cp = openCheckpoint(checkpoint.note, key.verifierKey);
  const done: ExpiryDone[] = [];
  for (;;) {
    const leaves = await expiringLeaves(storage, tables, { tenant, before, maxLeaf: cp.size, held, limit: PER_RECORD });
    if (leaves.length === 0) break;
    const digest = eventsDigest();
    for (const l of leaves) digest.add(l.idx, l.id);
    const text = formatExpiryRecord({
      origin: key.origin,
      tenant,
      before: new Date(before).toISOString(),
      count: leaves.length,
      leaves: leaves.map((l) => l.idx),
      events: digest.digest(),
      checkpoint: { size: cp.size, root: cp.root },
      time: new Date(now).toISOString(),
    });
    const note = signNote(text, [key.signer]);
    const id = recordId(text);
    // The record first, in both places: a removal is never unrecorded.
    await insertExpiryRecord(storage, tables, { record_id: id, tenant, expired_before: new Date(before).toISOString(), count: leaves.length, checkpoint_size: cp.size, note });
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(dir, `expiry-${id}.note`), note, { mode: 0o600 });
    await deleteExpiredEvents(storage, tables, tenant, leaves.map((l) => l.id));
    done.push({ record_id: id, tenant, count: leaves.length, note });
    if (leaves.length < PER_RECORD) break;
  }
  return done;
}

// Every tenant with a retention: one pass of the job.
export async function expireAll(deps: ExpiryDeps, retention: Config['retention'], now = Date.now()): Promise<ExpiryDone[]> {
  const tenants = retention.defaultDays ? await storedTenants(deps.storage, deps.tables) : Object.keys(retention.days);
  const done: ExpiryDone[] = [];
  for (const tenant of tenants) {
    const days = retentionDays(retention, tenant);
    if (days !== undefined) done.push(...(await expireTenant(deps, tenant, now - days * DAY_MS, now)));
  }
  return done;
}
