// Who is calling ingest: an emitter presenting a short-lived token signed
// with one of its registered keys (`Authorization: Bearer <jwt>`, made by the
// SDK, `actorlog emit`, the MCP proxy, or `actorlog ingest-token` for curl).
// The key must be usable now (active, inside its validity, not revoked or
// retired), the token must be for ingest (typ, aud), unexpired and short-lived.
// No shared secret: the proof is possession of the key the events are signed with.
import { INGEST_TOKEN_AUDIENCE, INGEST_TOKEN_TYP } from '@actorlog/sdk';
import { ActorlogError } from '../lib/errors.js';
import { parseStrictJson } from '../lib/strict-json.js';
import type { KeyResolver } from '../processor/key-resolver.js';
import { signatureValid } from '../processor/signatures.js';
import { ALLOWED_ALGS } from '../schemas/event.js';

const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
// Clock difference tolerated between an emitter and ingest.
const LEEWAY_SECONDS = 60;

export interface EmitterAuthOptions {
  keys: KeyResolver;
  // The longest exp - iat accepted.
  maxTokenSeconds: number;
}

function decode(segment: string): Record<string, unknown> | undefined {
  const parsed = parseStrictJson(Buffer.from(segment, 'base64url').toString('utf8'), 4);
  return parsed.ok && parsed.value && typeof parsed.value === 'object' && !Array.isArray(parsed.value) ? (parsed.value as Record<string, unknown>) : undefined;
}

const refuse = (detail: string) => new ActorlogError('UNAUTHORIZED', `emitter token: ${detail}`);

// Resolves with the emitter id the caller proved to be; throws UNAUTHORIZED.
export async function authenticateEmitter(authorization: string | undefined, opts: EmitterAuthOptions, now = Date.now()): Promise<string> {
  const match = /^Bearer ([^\s]+)$/i.exec(authorization ?? '');
  if (!match) throw refuse('none presented (Authorization: Bearer <token signed with the emitter key>)');
  const token = match[1]!;
  if (token.length > 4096 || !COMPACT.test(token)) throw refuse('not a compact JWT');
  const [headerPart, payloadPart] = token.split('.') as [string, string];
  const header = decode(headerPart);
  const claims = decode(payloadPart);
  if (!header || !claims) throw refuse('header or claims are not a JSON object');
  if (header.typ !== INGEST_TOKEN_TYP) throw refuse(`typ must be ${INGEST_TOKEN_TYP}`);
  if (!(ALLOWED_ALGS as readonly unknown[]).includes(header.alg)) throw refuse(`alg must be one of ${ALLOWED_ALGS.join(', ')}`);
  const { iss, aud, iat, exp } = claims;
  if (typeof iss !== 'string' || iss === '' || typeof header.kid !== 'string') throw refuse('iss (the emitter id) and kid are required');
  if (aud !== INGEST_TOKEN_AUDIENCE) throw refuse(`aud must be ${INGEST_TOKEN_AUDIENCE}`);
  if (typeof iat !== 'number' || typeof exp !== 'number') throw refuse('iat and exp are required');
  const seconds = now / 1000;
  if (exp <= seconds - LEEWAY_SECONDS) throw refuse('expired');
  if (iat > seconds + LEEWAY_SECONDS) throw refuse('issued in the future');
  if (exp - iat > opts.maxTokenSeconds) throw refuse(`lives longer than ${opts.maxTokenSeconds} s`);

  opts.keys.refresh();
  const resolved = await opts.keys.resolve(iss, header.kid);
  if (!resolved) throw refuse('no registered key of this emitter has this kid');
  if (!signatureValid(header.alg === 'ES256' ? 'ES256' : 'EdDSA', resolved.key, token)) throw refuse('the signature does not verify');
  // Only a key that may sign new events now may open the door.
  const usable =
    resolved.state === 'active' &&
    (resolved.notBefore === undefined || resolved.notBefore <= now) &&
    (resolved.notAfter === undefined || now < resolved.notAfter) &&
    (resolved.revokedAt === undefined || now < resolved.revokedAt);
  if (!usable) throw refuse(`the key is ${resolved.state === 'active' ? 'outside its validity' : resolved.state}`);
  return iss;
}
