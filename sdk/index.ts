// Public entry of the emitter SDK: `import { EmitterClient } from '@actorlog/sdk'`.
export { EmitterClient, SendError, type EmitterOptions, type FlushResult, type Rejection } from './client.js';
export { importSigningKey, signBatch, signBatchOfBytes, signEvent, MAX_BATCH_EVENTS, type PrivateJwk, type SigningAlg, type SigningKey } from './sign.js';
export { ingestToken, INGEST_TOKEN_AUDIENCE, INGEST_TOKEN_TYP } from './ingest-token.js';
export { uuidv7 } from './uuidv7.js';
export { verifySignedEvent, type SignedEventCheck } from './verify.js';
export type { ActorlogEvent, EventInput, TokenClaims } from './schema/event.js';
