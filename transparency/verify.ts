// `actorlog verify`: checks, offline and trusting nothing it did not check,
// an export against a checkpoint and the log key, and a newer checkpoint
// against an older one with a consistency proof. Pure: node:crypto only.
import { createHash } from 'node:crypto';
import { leafHash, verifyConsistency, verifyInclusion } from '../lib/merkle/index.js';
import { cosignatureTime, openNote, parseCheckpoint, parseCosignatureVerifierKey, parseVerifierKey, type Checkpoint } from '../lib/note/index.js';
import { eventsDigest, parseExpiryRecord, recordId, type ExpiryRecord } from './expiry-record.js';

export interface Verdict {
  ok: boolean;
  // What failed, one clear sentence each.
  problems: string[];
  // What was checked and what could not be, for the summary.
  notes: string[];
}

const MAX_PROBLEMS = 1000;

// Opens a checkpoint signed by the log key; its origin must be the key's name.
export function openCheckpoint(note: string, verifierKey: string): Checkpoint {
  const verifier = parseVerifierKey(verifierKey.trim());
  let text: string;
  try {
    text = openNote(note, [verifier]).text;
  } catch (err) {
    throw new Error(`the checkpoint is not signed by the log key ${verifier.name}: ${(err as Error).message}`);
  }
  const cp = parseCheckpoint(text);
  if (cp.origin !== verifier.name) throw new Error(`the checkpoint's origin "${cp.origin}" is not the log key's name "${verifier.name}"`);
  return cp;
}

interface SignedFields {
  id?: unknown;
  source?: unknown;
  seq?: unknown;
  prev?: unknown;
}

// The signed event of a compact JWS, or of a batch-signed event
// (`<batch JWS>~<event>~...`, docs/event.md).
function payloadOf(jws: string): SignedFields {
  const batchParts = jws.split('~');
  const parts = jws.split('.');
  const event = batchParts.length > 2 ? batchParts[1] : parts.length === 3 ? parts[1] : undefined;
  if (event === undefined) return {};
  try {
    return JSON.parse(Buffer.from(event, 'base64url').toString('utf8')) as SignedFields;
  } catch {
    return {};
  }
}

interface Link {
  id: string;
  digest: string;
  prev?: string;
}

// Emitter hash chains (docs/event.md): each event's `prev` must be the
// SHA-256 of the compact JWS of the same emitter's event at seq - 1.
function checkChains(chains: Map<string, Map<number, Link>>, problem: (text: string) => void, notes: string[]): void {
  let links = 0;
  for (const [source, bySeq] of chains) {
    for (const [seq, link] of bySeq) {
      if (link.prev === undefined) continue;
      const before = bySeq.get(seq - 1);
      if (!before) continue;
      links++;
      if (before.digest !== link.prev) {
        problem(`emitter ${source}: seq ${seq} (event ${link.id}) does not chain to seq ${seq - 1} (event ${before.id}): events were withheld or replaced between them`);
      }
    }
  }
  notes.push(`${links} emitter chain links checked across ${chains.size} emitters`);
}

interface AcceptedRecord {
  id: string;
  record: ExpiryRecord;
  seen: number;
  expired: number;
  digest: ReturnType<typeof eventsDigest>;
}

// An expiry record from the export, accepted only when the log key signed it
// and it fits the checkpoint being verified; otherwise the reason it is refused.
function acceptRecord(note: string, verifierKey: string, cp: Checkpoint): AcceptedRecord | string {
  let text: string;
  try {
    text = openNote(note, [parseVerifierKey(verifierKey.trim())]).text;
  } catch (err) {
    return `an expiry record in the export is not signed by the log key (${(err as Error).message}): refused, the events it names count as deleted`;
  }
  const id = recordId(text);
  let record: ExpiryRecord;
  try {
    record = parseExpiryRecord(text);
  } catch (err) {
    return `expiry record ${id} is signed by the log key but malformed (${(err as Error).message}): refused`;
  }
  if (record.origin !== cp.origin) return `expiry record ${id} names log "${record.origin}", not "${cp.origin}": refused`;
  if (record.leaves[record.leaves.length - 1]! >= record.checkpoint.size) return `expiry record ${id} names leaves beyond the checkpoint it was made against: refused`;
  if (record.checkpoint.size === cp.size && !record.checkpoint.root.equals(cp.root)) {
    return `expiry record ${id} was made against a tree of size ${cp.size} other than this checkpoint's: refused`;
  }
  return { id, record, seen: 0, expired: 0, digest: eventsDigest() };
}

// `heldRecords`: signed expiry records the auditor holds apart from the export
// (the checkpoint directory's expiry-*.note); the export's own are read too.
export function verifyExport(lines: Iterable<string>, checkpointNote: string, verifierKey: string, heldRecords: readonly string[] = []): Verdict {
  const problems: string[] = [];
  const notes: string[] = [];
  const problem = (text: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(text);
  };
  let cp: Checkpoint;
  try {
    cp = openCheckpoint(checkpointNote, verifierKey);
  } catch (err) {
    return { ok: false, problems: [(err as Error).message], notes };
  }
  const root = cp.root;
  const seen = new Uint8Array(cp.size);
  let proven = 0;
  let later = 0;
  let lineNo = 0;
  const chains = new Map<string, Map<number, Link>>();
  const records: AcceptedRecord[] = [];
  const expiredBy = new Map<number, AcceptedRecord[]>();
  let expired = 0;
  const takeRecord = (note: string) => {
    const accepted = acceptRecord(note, verifierKey, cp);
    if (typeof accepted === 'string') return problem(accepted);
    // The same record from the export and from the auditor's copy counts once.
    if (records.some((r) => r.id === accepted.id)) return;
    records.push(accepted);
    for (const leaf of accepted.record.leaves) {
      const list = expiredBy.get(leaf);
      if (list) list.push(accepted);
      else expiredBy.set(leaf, [accepted]);
    }
  };
  for (const note of heldRecords) takeRecord(note);
  for (const raw of lines) {
    lineNo++;
    if (raw.trim() === '') continue;
    let line: { checkpoint?: string; expiry_record?: string; leaf_index?: number | null; id?: string; tenant?: string; jws?: string | null; leaf_hash?: string; proof?: string[] | null };
    try {
      line = JSON.parse(raw) as typeof line;
    } catch {
      problem(`line ${lineNo} is not JSON`);
      continue;
    }
    if (typeof line.checkpoint === 'string') continue;
    if (typeof line.expiry_record === 'string') {
      takeRecord(line.expiry_record);
      continue;
    }
    const id = String(line.id ?? '?');
    const index = line.leaf_index;
    if (typeof line.jws === 'string') {
      const signed = payloadOf(line.jws);
      if (typeof signed.source === 'string' && Number.isSafeInteger(signed.seq)) {
        let bySeq = chains.get(signed.source);
        if (!bySeq) chains.set(signed.source, (bySeq = new Map()));
        const digest = createHash('sha256').update(line.jws, 'utf8').digest('hex');
        bySeq.set(signed.seq as number, { id, digest, prev: typeof signed.prev === 'string' ? signed.prev : undefined });
      }
    }
    if (index === null || index === undefined) {
      problem(`event ${id} (tenant ${line.tenant ?? '?'}) is stored but is not in the log: it was written to the database past actorlog`);
      continue;
    }
    if (!Number.isSafeInteger(index) || index < 0) {
      problem(`line ${lineNo}: leaf index ${String(index)} is not a leaf index`);
      continue;
    }
    if (index >= cp.size) {
      later++;
      continue;
    }
    if (seen[index]) problem(`leaf ${index} appears twice in the export`);
    seen[index] = 1;
    const proof = Array.isArray(line.proof) ? line.proof.map((p) => Buffer.from(String(p), 'base64')) : [];
    const under = expiredBy.get(index) ?? [];
    for (const r of under) {
      r.seen++;
      r.digest.add(index, id);
      if (line.tenant !== r.record.tenant) problem(`leaf ${index} (event ${id}) is of tenant ${line.tenant ?? '?'}, but expiry record ${r.id} expired tenant ${r.record.tenant}`);
    }
    if (typeof line.jws !== 'string') {
      if (under.length === 0) {
        problem(`leaf ${index} logs event ${id}, which the database no longer holds: it was deleted`);
        continue;
      }
      if (typeof line.leaf_hash !== 'string' || !verifyInclusion(index, cp.size, Buffer.from(line.leaf_hash, 'base64'), proof, root)) {
        problem(`leaf ${index} (event ${id}, expired under record ${under[0]!.id}): the export's leaf hash is not the one logged`);
        continue;
      }
      under[0]!.expired++;
      if (expired++ < 20) notes.push(`leaf ${index} (event ${id}, tenant ${line.tenant ?? '?'}) expired under record ${under[0]!.id}`);
      continue;
    }
    if (!verifyInclusion(index, cp.size, leafHash(Buffer.from(line.jws, 'utf8')), proof, root)) {
      problem(`leaf ${index} (event ${id}): the stored signed bytes are not the ones logged: the event was altered after it was stored`);
      continue;
    }
    const signedId = payloadOf(line.jws).id;
    if (signedId !== id) {
      problem(`leaf ${index}: the signed event's id is ${typeof signedId === 'string' ? signedId : 'unreadable'}, not ${id} as the export says`);
      continue;
    }
    proven++;
  }
  let missing = 0;
  for (let i = 0; i < cp.size; i++) {
    if (seen[i]) continue;
    if (missing++ < 20) problem(`leaf ${i} of checkpoint size ${cp.size} is missing from the export`);
  }
  if (missing > 20) problem(`... ${missing} leaves missing in all`);
  if (expired > 20) notes.push(`... ${expired} leaves expired in all`);
  for (const r of records) {
    const { record } = r;
    notes.push(`expiry record ${r.id}: tenant ${record.tenant}, ${record.count} events older than ${record.before}, made ${record.time} against checkpoint size ${record.checkpoint.size}; ${r.expired} of them absent from the export`);
    if (record.checkpoint.size > cp.size) {
      notes.push(`expiry record ${r.id} was made against a later checkpoint: its event ids are checked only when verifying against a checkpoint of size ${record.checkpoint.size} or more`);
      continue;
    }
    if (r.seen !== record.count) problem(`expiry record ${r.id} names ${record.count} leaves, the export has ${r.seen} of them`);
    else if (r.digest.digest() !== record.events) problem(`expiry record ${r.id}: the event ids the export gives for its leaves are not the ones that were expired`);
  }
  notes.push(`checkpoint ${cp.origin} size ${cp.size}: ${proven} of ${cp.size} leaves proven${expired > 0 ? `, ${expired} expired under signed records` : ''}`);
  checkChains(chains, problem, notes);
  if (later > 0) notes.push(`${later} events were logged after this checkpoint and are not checked against it`);
  return { ok: problems.length === 0, problems, notes };
}

// A newer checkpoint against an older one: both signed by the log key, and
// the proof shows the older tree is a prefix of the newer.
export function verifyCheckpoints(olderNote: string, newerNote: string, proofBase64: string[], verifierKey: string): Verdict {
  let older: Checkpoint;
  let newer: Checkpoint;
  try {
    older = openCheckpoint(olderNote, verifierKey);
    newer = openCheckpoint(newerNote, verifierKey);
  } catch (err) {
    return { ok: false, problems: [(err as Error).message], notes: [] };
  }
  if (older.size > newer.size) return { ok: false, problems: [`the older checkpoint (size ${older.size}) is larger than the newer one (size ${newer.size})`], notes: [] };
  const proof = proofBase64.map((p) => Buffer.from(p, 'base64'));
  if (!verifyConsistency(older.size, newer.size, proof, older.root, newer.root)) {
    return {
      ok: false,
      problems: [`checkpoint size ${newer.size} is not an extension of checkpoint size ${older.size}: the log's history was rewritten (or the proof is wrong)`],
      notes: [],
    };
  }
  return { ok: true, problems: [], notes: [`checkpoint size ${newer.size} extends checkpoint size ${older.size}`] };
}

// The witnesses' co-signatures on a checkpoint (C2SP tlog-cosignature/v1):
// each named witness must have co-signed the checkpoint text, which the log
// key must have signed. A witness co-signs only a consistent extension of
// what it saw (`actorlog witness`), so agreeing witnesses rule out a split view.
export function verifyCosignatures(note: string, verifierKey: string, witnessKeys: readonly string[]): Verdict {
  const problems: string[] = [];
  const notes: string[] = [];
  let cp: Checkpoint;
  try {
    cp = openCheckpoint(note, verifierKey);
  } catch (err) {
    return { ok: false, problems: [(err as Error).message], notes };
  }
  for (const key of witnessKeys) {
    let witness;
    try {
      witness = parseCosignatureVerifierKey(key);
    } catch (err) {
      problems.push(`witness key ${key.split('+')[0]} is not a cosignature key: ${(err as Error).message}`);
      continue;
    }
    try {
      const [signature] = openNote(note, [witness]).verified;
      notes.push(`witness ${witness.name} co-signed checkpoint size ${cp.size} at ${new Date(cosignatureTime(signature!.base64) * 1000).toISOString()}`);
    } catch (err) {
      const message = (err as Error).message;
      problems.push(/no verifiable signatures/.test(message) ? `witness ${witness.name} has not co-signed this checkpoint` : `witness ${witness.name}: ${message}`);
    }
  }
  return { ok: problems.length === 0, problems, notes };
}
