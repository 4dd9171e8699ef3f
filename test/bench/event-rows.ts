// Event rows as the processor makes them, each its own event and its own
// JWS-shaped bytes (the payload is the event as the SDK serialises it, the
// signature random): storage benchmarks need no real signature, and rows that
// differ as real ones do let compression see what it would in use.
import crypto from 'node:crypto';
import { normalise } from '../../processor/normalise.js';
import { eventSchema } from '../../schemas/event.js';
import type { EventRow } from '../../schemas/row.js';
import { fullEvent } from '../helpers/fixtures.js';

const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: 'k', typ: 'actorlog-event+jws' })).toString('base64url');
const skew = { futureMs: 300_000, pastMs: 86_400_000 };

export function eventRows(total: number): EventRow[] {
  return Array.from({ length: total }, (_, i) => {
    const event = eventSchema.parse(fullEvent('gw:bench', { context: { session_id: `s-${i % 97}` }, human: { sub: `u-${i % 1000}`, iss: 'https://login.acme.example' } }));
    const jws = `${header}.${Buffer.from(JSON.stringify(event)).toString('base64url')}.${crypto.randomBytes(64).toString('base64url')}`;
    return normalise(event, { kid: 'k', rawJws: jws, ingestedAt: Date.now(), skew });
  });
}
