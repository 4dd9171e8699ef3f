// Verifies one inspected envelope against the emitter's registered key and
// validates the verified payload as a v1 event.
import { compactVerify, errors as joseErrors } from 'jose';
import { eventSchema, type ActorlogEvent } from '../schemas/event.js';
import type { Inspection } from '../schemas/envelope.js';
import type { QuarantineReason } from '../lib/errors.js';
import type { KeyResolver } from './key-resolver.js';

export type Verification =
  | { ok: true; event: ActorlogEvent; kid: string }
  | { ok: false; reason: QuarantineReason; detail: string };

export async function verifyEnvelope(inspection: Extract<Inspection, { ok: true }>, keys: KeyResolver): Promise<Verification> {
  const { header, claimed, compact, payload } = inspection;
  const resolving = keys.resolve(claimed.source, header.kid);
  if (!resolving) {
    return { ok: false, reason: 'unknown_emitter_key', detail: `no key ${header.kid} registered for ${claimed.source}` };
  }
  const resolved = await resolving;
  if (resolved.state === 'revoked') {
    return { ok: false, reason: 'unknown_emitter_key', detail: `key ${header.kid} of ${claimed.source} is revoked` };
  }
  try {
    // Only the algorithm the key was registered for: a header cannot pick another.
    await compactVerify(compact, resolved.key, { algorithms: [resolved.alg] });
  } catch (err) {
    if (err instanceof joseErrors.JOSEAlgNotAllowed) {
      return { ok: false, reason: 'alg_not_allowed', detail: `key ${header.kid} is registered for ${resolved.alg}, not ${header.alg}` };
    }
    return { ok: false, reason: 'signature_invalid', detail: (err as Error).message };
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
  return { ok: true, event: parsed.data, kid: header.kid };
}
