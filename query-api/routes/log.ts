// The transparency log: the latest signed checkpoint, the log's public key,
// an inclusion proof for an event and a consistency proof between two
// checkpoints. Proofs carry only hashes: an inclusion proof shows nothing of
// other tenants' events, and a caller gets one only for an event of its own.
import { Readable } from 'node:stream';
import { z } from 'zod';
import { ActorlogError } from '../../lib/errors.js';
import { checkpointAt, latestCheckpoint, leavesOf } from '../../store/transparency-log.js';
import { exportLog } from '../../transparency/export.js';
import { storedConsistencyProof, storedInclusionProofs } from '../../transparency/stored-proofs.js';
import type { LogKey } from '../../transparency/log-key.js';
import { access, identifier, type App, type RouteDeps } from '../context.js';

const size = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export function logRoutes(key: LogKey) {
  return (app: App, { storage, tables }: RouteDeps): void => {
    const latest = async () => {
      const cp = await latestCheckpoint(storage, tables);
      if (!cp) throw new ActorlogError('NOT_FOUND', 'no checkpoint has been published yet');
      return cp;
    };

    app.get(
      '/v1/log/checkpoint',
      { schema: { summary: 'The latest signed checkpoint (C2SP signed note), or the one of a given tree size', tags: ['proof'], querystring: z.strictObject({ size: size.optional() }) } },
      async (request, reply) => {
        const cp = request.query.size === undefined ? await latest() : await checkpointAt(storage, tables, request.query.size);
        if (!cp) throw new ActorlogError('NOT_FOUND', `no checkpoint of size ${request.query.size}`);
        request.rowsReturned = 1;
        return reply.type('text/plain; charset=utf-8').send(cp.note);
      },
    );

    app.get('/v1/log/key', { schema: { summary: "The log's public key (C2SP signed-note verifier key)", tags: ['proof'] } }, async (_request, reply) =>
      reply.type('text/plain; charset=utf-8').send(`${key.verifierKey}\n`),
    );

    app.get(
      '/v1/events/:id/proof',
      { schema: { summary: "Inclusion proof of an event's signed bytes in the latest checkpoint", tags: ['proof'], params: z.object({ id: identifier }) } },
      async (request) => {
        const scope = access(request, 'analyst');
        const [leaf] = await leavesOf(storage, tables, [request.params.id], scope.tenants);
        if (!leaf) throw new ActorlogError('NOT_FOUND', `no logged event ${request.params.id}`);
        const cp = await latest();
        if (leaf.idx >= cp.size) throw new ActorlogError('NOT_YET_CHECKPOINTED', `leaf ${leaf.idx}, checkpoint size ${cp.size}`);
        const [proof] = await storedInclusionProofs(storage, tables, [leaf.idx], cp.size);
        request.rowsReturned = 1;
        return {
          id: leaf.event_id,
          leaf_index: leaf.idx,
          leaf_hash: Buffer.from(leaf.hash, 'hex').toString('base64'),
          tree_size: cp.size,
          proof: proof!.map((h) => h.toString('base64')),
          checkpoint: cp.note,
        };
      },
    );

    // The whole log across tenants: administrators only.
    app.get(
      '/v1/log/export',
      { schema: { summary: 'Every logged event with its signed bytes and inclusion proof (NDJSON), for `actorlog verify`', tags: ['proof'], querystring: z.strictObject({ size: size.optional() }) } },
      async (request, reply) => {
        const scope = access(request, 'admin');
        if (scope.tenants !== null) throw new ActorlogError('FORBIDDEN', 'the log export spans every tenant');
        const cp = request.query.size === undefined ? await latest() : await checkpointAt(storage, tables, request.query.size);
        if (!cp) throw new ActorlogError('NOT_FOUND', `no checkpoint of size ${request.query.size}`);
        request.rowsReturned = cp.size;
        return reply.type('application/x-ndjson').send(Readable.from(exportLog(storage, tables, cp)));
      },
    );

    app.get(
      '/v1/log/consistency',
      {
        schema: {
          summary: 'Consistency proof between two published checkpoints (tree sizes)',
          tags: ['proof'],
          querystring: z.strictObject({ from: size, to: size.optional().describe('default: the latest checkpoint') }),
        },
      },
      async (request) => {
        const to = request.query.to ?? (await latest()).size;
        const { from } = request.query;
        if (from > to) throw new ActorlogError('BAD_REQUEST', `from ${from} is after to ${to}`);
        const [older, newer] = await Promise.all([checkpointAt(storage, tables, from), checkpointAt(storage, tables, to)]);
        if (!older || !newer) throw new ActorlogError('NOT_FOUND', `no published checkpoint of size ${!older ? from : to}`);
        const proof = await storedConsistencyProof(storage, tables, from, to);
        request.rowsReturned = 1;
        return { from, to, proof: proof.map((h) => h.toString('base64')), from_checkpoint: older.note, to_checkpoint: newer.note };
      },
    );
  };
}
