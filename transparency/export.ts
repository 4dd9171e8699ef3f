// An export an auditor can check without trusting actorlog: the checkpoint,
// then one NDJSON line per leaf in log order with the stored signed bytes and
// the inclusion proof against that checkpoint, then every stored event that
// no leaf logs. Nothing is filtered: what storage lacks or holds extra shows.
// The signed expiry records follow the checkpoint line, so the verifier knows
// which missing events retention removed before it meets their leaves.
import type { Storage, Tables } from '../store/client.js';
import { eventsByIds, eventsWithoutLeaf, leafPage, type StoredCheckpoint } from '../store/transparency-log.js';
import { listExpiryRecords } from '../store/retention.js';
import { storedInclusionProofs } from './stored-proofs.js';

export interface ExportLine {
  leaf_index: number | null;
  id: string;
  tenant: string;
  // null: the log has the leaf, storage no longer has the event.
  jws: string | null;
  // base64, with a null jws: the stored leaf hash, which the proof proves.
  leaf_hash?: string;
  // base64 hashes; null when the leaf came after the checkpoint.
  proof: string[] | null;
}

const PAGE = 500;

export async function* exportLog(storage: Storage, tables: Tables, checkpoint: StoredCheckpoint): AsyncGenerator<string> {
  yield `${JSON.stringify({ checkpoint: checkpoint.note })}\n`;
  for (const record of await listExpiryRecords(storage, tables)) yield `${JSON.stringify({ expiry_record: record.note })}\n`;
  for (let from = 0; ; from += PAGE) {
    const leaves = await leafPage(storage, tables, from, PAGE);
    if (leaves.length === 0) break;
    const events = new Map((await eventsByIds(storage, tables, leaves.map((l) => l.event_id))).map((e) => [e.id, e]));
    const covered = leaves.filter((l) => l.idx < checkpoint.size);
    const proofs = await storedInclusionProofs(storage, tables, covered.map((l) => l.idx), checkpoint.size);
    const proofOf = new Map(covered.map((l, i) => [l.idx, proofs[i]!.map((h) => h.toString('base64'))]));
    for (const leaf of leaves) {
      const jws = events.get(leaf.event_id)?.raw_jws ?? null;
      const line: ExportLine = {
        leaf_index: leaf.idx,
        id: leaf.event_id,
        tenant: leaf.tenant,
        jws,
        ...(jws === null ? { leaf_hash: Buffer.from(leaf.hash, 'hex').toString('base64') } : {}),
        proof: proofOf.get(leaf.idx) ?? null,
      };
      yield `${JSON.stringify(line)}\n`;
    }
    if (leaves.length < PAGE) break;
  }
  for (const event of await eventsWithoutLeaf(storage, tables)) {
    const line: ExportLine = { leaf_index: null, id: event.id, tenant: event.tenant, jws: event.raw_jws, proof: null };
    yield `${JSON.stringify(line)}\n`;
  }
}
