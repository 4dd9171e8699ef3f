// Bearer-token guard of the query API. For now one shared analyst token
// (ACTORLOG_ANALYST_TOKEN); compared in constant time over digests so
// neither the content nor the length leaks through timing.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ActorlogError } from '../lib/errors.js';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

export function bearerGuard(token: string): (request: FastifyRequest) => Promise<void> {
  const expected = digest(token);
  return async (request) => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer ([^\s]+)$/i.exec(header);
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) throw new ActorlogError('UNAUTHORIZED');
  };
}
