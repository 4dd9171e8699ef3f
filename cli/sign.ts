// `actorlog sign`: prints one event as a compact JWS, so any HTTP client can
// send it (curl -H 'content-type: application/jose' --data-binary @-). It
// fills the envelope as the SDK does; seq comes from --seq because, unlike
// the SDK, it keeps no state between runs.
import fs from 'node:fs';
import { importSigningKey, ingestToken, signEvent, uuidv7, type PrivateJwk, type SigningAlg } from '@actorlog/sdk';
import { eventSchema } from '../schemas/event.js';
import { ActorlogError } from '../lib/errors.js';

export interface SignArgs {
  source: string;
  keyFile: string;
  seq: number;
  alg?: SigningAlg | undefined;
  input: string;
}

export function signCommand(args: SignArgs): number {
  const text = args.input === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(args.input, 'utf8');
  let input: Record<string, unknown>;
  try {
    input = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ActorlogError('BAD_REQUEST', 'the event is not JSON (one object)');
  }
  const parsed = eventSchema.safeParse({
    specversion: '1.0',
    id: uuidv7(),
    time: new Date().toISOString(),
    ...input,
    source: args.source,
    seq: args.seq,
  });
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ActorlogError('BAD_REQUEST', `not a valid v1 event: ${detail}`);
  }
  const signer = importSigningKey(JSON.parse(fs.readFileSync(args.keyFile, 'utf8')) as PrivateJwk, args.alg);
  process.stdout.write(`${signEvent(parsed.data, signer)}\n`);
  return 0;
}

// `actorlog ingest-token`: prints a short-lived token proving the emitter holds
// its key, for `curl -H "Authorization: Bearer $(actorlog ingest-token ...)"`.
export function ingestTokenCommand(args: { source: string; keyFile: string; alg?: SigningAlg | undefined }): number {
  const signer = importSigningKey(JSON.parse(fs.readFileSync(args.keyFile, 'utf8')) as PrivateJwk, args.alg);
  process.stdout.write(`${ingestToken(signer, args.source)}\n`);
  return 0;
}
