// Runs actorlog's services in the test process against real storage (the
// embedded ClickHouse engine) and, where asked, the real Kafka broker the test
// script started (KAFKA_BROKERS).
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, type Config } from '../../lib/config.js';
import { openContext, type Context } from '../../cli/services.js';
import { inspectEnvelope } from '../../schemas/envelope.js';
import { tempDir, testEmitters, type TestEmitter } from './fixtures.js';

export const ANALYST_TOKEN = 'test-analyst-token';

export function testConfig(options: { kafka?: boolean; dataDir?: string; env?: Record<string, string> } = {}): Config {
  const dataDir = options.dataDir ?? tempDir();
  const suffix = randomBytes(4).toString('hex');
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    INGEST_PORT: '0',
    QUERY_PORT: '0',
    PROCESSOR_PORT: '0',
    LOG_LEVEL: 'silent',
    ACTORLOG_ANALYST_TOKEN: ANALYST_TOKEN,
    ...options.env,
  };
  if (options.kafka) {
    const brokers = options.env?.KAFKA_BROKERS ?? process.env.KAFKA_BROKERS;
    if (!brokers) throw new Error('KAFKA_BROKERS is not set: run the suite with `npm test`, which starts a broker');
    Object.assign(env, {
      KAFKA_BROKERS: brokers,
      KAFKA_TOPIC: `actorlog.events.${suffix}`,
      KAFKA_DLQ_TOPIC: `actorlog.events.dlq.${suffix}`,
      KAFKA_GROUP_ID: `actorlog-test-${suffix}`,
      KAFKA_OCSF_TOPIC: `actorlog.ocsf.${suffix}`,
    });
  }
  return loadConfig(env);
}

export const registryOf = (config: Config) => config.keysFile;
export const dataPath = (config: Config, ...parts: string[]) => path.join(config.dataDir, ...parts);

export async function context(config: Config): Promise<Context> {
  return openContext(config, 'test');
}

export async function rowsOf<T = Record<string, unknown>>(ctx: Context, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const result = await ctx.storage.query({ query, query_params: params, format: 'JSONEachRow' });
  return result.json<T>();
}

// Polls until check() returns a value (not undefined), or fails after timeoutMs.
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

export async function api<T = any>(base: string, pathAndQuery: string, token: string | null = ANALYST_TOKEN): Promise<{ status: number; body: T }> {
  const response = await fetch(`${base}${pathAndQuery}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON: keep the text */
  }
  return { status: response.status, body: body as T };
}

// One call of the query API as `token`, with a JSON body if given: the
// status, the body (parsed when it is JSON, else the text, e.g. a report
// file), the text, and actorlog's request id.
export async function callApi(base: string, method: string, pathAndQuery: string, token: string, body?: unknown) {
  const response = await fetch(`${base}${pathAndQuery}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* a file */
  }
  return { status: response.status, body: parsed, text, requestId: response.headers.get('x-request-id')! };
}

// Posts to ingest as `as`: by default the test emitter whose source the
// first readable event claims (ingest authenticates the caller); null sends
// no token.
export async function post(base: string, body: string | Blob, contentType: string, as?: TestEmitter | null): Promise<{ status: number; body: any }> {
  const caller = as === undefined ? await claimedEmitter(body) : as;
  const headers: Record<string, string> = { 'content-type': contentType };
  if (caller) headers.authorization = caller.authorization();
  const response = await fetch(`${base}/v1/events`, { method: 'POST', headers, body });
  return { status: response.status, body: await response.json() };
}

async function claimedEmitter(body: string | Blob): Promise<TestEmitter | undefined> {
  const text = typeof body === 'string' ? body : await body.text();
  for (const candidate of text.match(/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g) ?? []) {
    const source = inspectEnvelope(Buffer.from(candidate), Infinity).claimed.source;
    if (source && testEmitters.has(source)) return testEmitters.get(source);
  }
  return undefined;
}
