// Verifies one inspected envelope against the emitter's registered key and
// validates the verified payload as a v1 event.
import { algsForKey, eventSchema, type ActorlogEvent } from '../schemas/event.js';
import type { Inspection } from '../schemas/envelope.js';
import { verifyInclusion } from '../lib/merkle/index.js';
import type { QuarantineReason } from '../lib/errors.js';
import type { KeyResolver, ResolvedKey } from './key-resolver.js';
import type { SignatureJob, VerifyPool } from './verify-pool.js';

export type Verification =
  | { ok: true; event: ActorlogEvent; kid: string }
  | { ok: false; reason: QuarantineReason; detail: string };

// Whether the key may vouch for an event dated `time` that ingest received at
// `receivedAt` (both epoch ms). Returns the refusal, or undefined.
function keyValidity(key: ResolvedKey, kid: string, time: number, receivedAt: number): Extract<Verification, { ok: false }> | undefined {
  if (key.state === 'revoked') {
    const at = key.revokedAt ?? Number.NEGATIVE_INFINITY;
    // A stolen key can backdate `time`, but not the moment ingest received the event.
    if (time >= at || receivedAt >= at) {
      return { ok: false, reason: 'key_revoked', detail: `key ${kid} was revoked${key.revokedAt ? ` at ${new Date(at).toISOString()}` : ''}` };
    }
  }
  if (key.state === 'retired' && key.retiredAt !== undefined && time >= key.retiredAt) {
    return { ok: false, reason: 'key_retired', detail: `key ${kid} was retired at ${new Date(key.retiredAt).toISOString()}` };
  }
  if ((key.notBefore !== undefined && time < key.notBefore) || (key.notAfter !== undefined && time >= key.notAfter)) {
    return { ok: false, reason: 'key_not_valid', detail: `event time is outside key ${kid}'s validity` };
  }
  return undefined;
}

export interface Candidate {
  inspection: Extract<Inspection, { ok: true }>;
  receivedAt: number;
}

// Verifies the envelopes of a batch: keys looked up, every signature checked
// at once (on the verification workers when the batch is large), then each
// payload validated. One verdict per candidate, in order.
export async function verifyEnvelopes(candidates: Candidate[], keys: KeyResolver, pool: VerifyPool): Promise<Verification[]> {
  const resolved = await Promise.all(candidates.map(({ inspection }) => keys.resolve(inspection.claimed.source, inspection.header.kid)));
  const jobs: SignatureJob[] = [];
  // A signed batch's events share one signature: checked once per key.
  const batchJob = new Map<string, number>();
  const jobOf: (number | undefined)[] = candidates.map(({ inspection }, i) => {
    const key = resolved[i];
    // Only the algorithm the key was registered for (under either of its
    // names, RFC 9864): a header cannot pick another.
    if (!key || !algsForKey(key.alg).includes(inspection.header.alg)) return undefined;
    const compact = inspection.batch?.jws ?? inspection.compact;
    const once = inspection.batch ? `${key.ref}\n${compact}` : undefined;
    const known = once === undefined ? undefined : batchJob.get(once);
    if (known !== undefined) return known;
    const job = jobs.push({ ref: key.ref, alg: key.alg === 'ES256' ? 'ES256' : 'EdDSA', jwk: key.jwk, key: key.key, compact }) - 1;
    if (once !== undefined) batchJob.set(once, job);
    return job;
  });
  const valid = await pool.verify(jobs);
  return candidates.map((c, i) => verdict(c, resolved[i], jobOf[i] === undefined ? false : valid[jobOf[i]!]!));
}

function verdict({ inspection, receivedAt }: Candidate, resolved: ResolvedKey | undefined, signatureOk: boolean): Verification {
  const { header, claimed, payload } = inspection;
  if (!resolved) {
    return { ok: false, reason: 'unknown_emitter_key', detail: `no key ${header.kid} registered for ${claimed.source}` };
  }
  if (!algsForKey(resolved.alg).includes(header.alg)) {
    return { ok: false, reason: 'alg_not_allowed', detail: `key ${header.kid} is registered for ${resolved.alg}, not ${header.alg}` };
  }
  if (!signatureOk) return { ok: false, reason: 'signature_invalid', detail: 'signature verification failed' };
  // One hash per event and one per level of the batch's tree.
  if (inspection.batch) {
    const { index, size, leaf, path, root } = inspection.batch;
    if (!verifyInclusion(index, size, leaf, path, root)) {
      return { ok: false, reason: 'batch_proof_invalid', detail: `leaf ${index} of ${size} does not lead to the signed root` };
    }
  }
  // The payload segment just verified is the one inspect already parsed.
  const parsed = eventSchema.safeParse(payload);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    return { ok: false, reason: 'schema_invalid', detail };
  }
  const refusal = keyValidity(resolved, header.kid, Date.parse(parsed.data.time), receivedAt);
  if (refusal) return refusal;
  if (resolved.tenants && !resolved.tenants.includes(parsed.data.tenant)) {
    return { ok: false, reason: 'tenant_not_allowed', detail: `${claimed.source} may not report for tenant ${parsed.data.tenant.slice(0, 64)}` };
  }
  return { ok: true, event: parsed.data, kid: header.kid };
}
