// Shared test material: temp folders, registered emitter keys, valid events.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateAndRegister, type GeneratedKey, type SigningAlg } from '../../keys/generate.js';
import { importSigningKey, ingestToken, signEvent, type SigningKey } from '@actorlog/sdk';
import { uuidv7 } from '@actorlog/sdk';
import type { ActorlogEvent, EventInput } from '../../schemas/event.js';
import { KeyResolver } from '../../processor/key-resolver.js';
import { normalise } from '../../processor/normalise.js';
import type { EventRow } from '../../schemas/row.js';

// Ingest without caller authentication or rate limits, for unit tests of what
// comes after them (the SDK's retries, the schema route).
export const OPEN_INGEST = {
  auth: 'off',
  maxTokenSeconds: 300,
  keys: new KeyResolver(''),
  rateLimitEmitter: Number.MAX_SAFE_INTEGER,
  rateLimitAddress: Number.MAX_SAFE_INTEGER,
} as const;

export function tempDir(prefix = 'actorlog-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface TestEmitter {
  source: string;
  key: GeneratedKey;
  signer: SigningKey;
  sign(event: ActorlogEvent): Promise<string>;
  // The Authorization header value ingest expects from this emitter.
  authorization(): string;
}

// Every emitter a test registered in this process, by source: `post` sends
// a batch as the emitter its events claim (test/helpers/services.ts).
export const testEmitters = new Map<string, TestEmitter>();

export async function registeredEmitter(registryFile: string, source: string, alg: SigningAlg = 'EdDSA'): Promise<TestEmitter> {
  const key = await generateAndRegister(registryFile, source, alg);
  const signer = await importSigningKey(key.privateJwk);
  const emitter: TestEmitter = { source, key, signer, sign: async (event) => signEvent(event, signer), authorization: () => `Bearer ${ingestToken(signer, source)}` };
  testEmitters.set(source, emitter);
  return emitter;
}

// A complete mcp.tool.call: Alice's research agent, through an exchanged
// token with a nested actor chain, searching the CRM.
export function toolCall(overrides: Partial<EventInput> = {}): EventInput {
  const now = Math.floor(Date.now() / 1000);
  return {
    type: 'mcp.tool.call',
    tenant: 'acme',
    human: { sub: 'u-alice', iss: 'https://login.acme.example', email: 'alice@acme.example' },
    agent: { id: 'agent:research', runtime: { kind: 'spiffe', id: 'spiffe://acme.example/research' } },
    delegation: { mode: 'obo_exchange', grant_id: 'grant-1', consent_id: 'consent-1', scopes: ['crm.read'] },
    token: {
      iss: 'https://login.acme.example',
      sub: 'u-alice',
      aud: ['https://crm.mcp.acme.example'],
      scope: ['crm.read'],
      exp: now + 600,
      iat: now - 60,
      jti: 'jti-1',
      act: { sub: 'agent:summarizer', act: { sub: 'agent:research' } },
    },
    target: {
      server: { id: 'mcp:crm', audience: 'https://crm.mcp.acme.example' },
      tool: { name: 'crm.search', intent: 'search', sensitivity: 'internal' },
    },
    decision: { outcome: 'allow', policy: { id: 'tools', version: '3' }, decided_by: 'gateway' },
    context: { session_id: 'sess-1', trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' },
    ...overrides,
  };
}

let seq = 0;
// A full envelope as the SDK would build it, for tests that sign by hand.
export function fullEvent(source: string, overrides: Partial<EventInput> = {}): ActorlogEvent {
  return {
    specversion: '1.0',
    id: uuidv7(),
    source,
    time: new Date().toISOString(),
    seq: ++seq,
    ...toolCall(overrides),
  } as ActorlogEvent;
}

// A full event as the processor would store it, for tests and benchmarks
// that write rows straight into storage (the signature is not checked there).
export function storedRow(source: string, ingestedAt: number, rawJws = 'a.b.c'): EventRow {
  return normalise(fullEvent(source), { kid: 'k', rawJws, ingestedAt, skew: { futureMs: 300_000, pastMs: 86_400_000 } });
}

// Changes one character of the payload segment, keeping it valid base64url JSON
// where possible: the signature no longer matches.
export function tamper(jws: string): string {
  const [header, payload, signature] = jws.split('.') as [string, string, string];
  const json = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as ActorlogEvent;
  const forged = { ...json, human: { sub: 'u-mallory', iss: 'https://login.acme.example' } };
  return `${header}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${signature}`;
}

export function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}
