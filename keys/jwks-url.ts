// An emitter's keys published at a JWKS URL (for keys held in a KMS or HSM
// whose owner rotates them there): the registry names the URL, and whoever
// verifies fetches the set, bounded in size and time, and keeps it for a
// while. A key removed upstream stops verifying once the set is fetched again.
import net from 'node:net';
import type { JsonWebKey } from 'node:crypto';
import type { SignatureAlg } from '../schemas/event.js';
import { ActorlogError } from '../lib/errors.js';
import { publicSigningJwk } from './import.js';

export interface JwksFetchOptions {
  // How long a fetched set is used before it is fetched again.
  refreshMs: number;
  // After a failed fetch, how long before the next try (the last good set is used meanwhile).
  retryMs: number;
  timeoutMs: number;
  maxBytes: number;
  now?: () => number;
}

export const JWKS_DEFAULTS: JwksFetchOptions = { refreshMs: 300_000, retryMs: 30_000, timeoutMs: 5_000, maxBytes: 64 * 1024 };

const LOOPBACK_NAMES = new Set(['localhost']);
function loopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (LOOPBACK_NAMES.has(host.toLowerCase())) return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return host === '::1';
}

// https, or http to a loopback address (a JWKS served on the same host, in
// development); no credentials, no fragment.
export function checkJwksUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ActorlogError('BAD_REQUEST', 'the JWKS URL is not a URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback(url.hostname))) {
    throw new ActorlogError('BAD_REQUEST', 'the JWKS URL must be https (http only to a loopback address)');
  }
  if (url.username || url.password || url.hash) throw new ActorlogError('BAD_REQUEST', 'the JWKS URL carries no credentials and no fragment');
  if (value.length > 2048) throw new ActorlogError('BAD_REQUEST', 'the JWKS URL is longer than 2048 characters');
  return url.href;
}

export interface PublishedKey {
  kid: string;
  alg: SignatureAlg;
  jwk: JsonWebKey;
}

// The usable signing keys of a set (what `keys import` would take, with a
// kid, not marked for encryption); anything else in the set is skipped.
export function publishedKeys(set: unknown): Map<string, PublishedKey> {
  const keys = new Map<string, PublishedKey>();
  const list = set && typeof set === 'object' && Array.isArray((set as { keys?: unknown }).keys) ? ((set as { keys: unknown[] }).keys as unknown[]) : undefined;
  if (!list) throw new Error('not a JWK set (no "keys" array)');
  for (const item of list) {
    if (!item || typeof item !== 'object' || Array.isArray(item)) continue;
    const jwk = item as Record<string, unknown>;
    if (typeof jwk.kid !== 'string' || jwk.kid === '' || jwk.kid.length > 256 || keys.has(jwk.kid)) continue;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    const usable = publicSigningJwk(jwk);
    if ('refused' in usable) continue;
    keys.set(jwk.kid, { kid: jwk.kid, alg: usable.alg, jwk: usable.publicJwk });
  }
  return keys;
}

// One GET: no redirects (the registered URL is the one trusted), a deadline,
// and at most maxBytes read.
export async function fetchJwks(url: string, options: Pick<JwksFetchOptions, 'timeoutMs' | 'maxBytes'>): Promise<Map<string, PublishedKey>> {
  const response = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(options.timeoutMs), headers: { accept: 'application/jwk-set+json, application/json' } });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > options.maxBytes) throw new Error(`larger than ${options.maxBytes} bytes`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += (chunk as Uint8Array).length;
    if (size > options.maxBytes) throw new Error(`larger than ${options.maxBytes} bytes`);
    chunks.push(chunk as Uint8Array);
  }
  return publishedKeys(JSON.parse(Buffer.concat(chunks).toString('utf8')));
}

interface Cached {
  keys: Map<string, PublishedKey>;
  // When to fetch again.
  until: number;
  fetching?: Promise<void>;
  error?: string;
}

// The sets of every URL asked for, each fetched at most once at a time.
export class JwksCache {
  private readonly sets = new Map<string, Cached>();
  private readonly options: JwksFetchOptions;
  private readonly now: () => number;

  constructor(options: Partial<JwksFetchOptions> = {}, private readonly onError?: (url: string, message: string) => void) {
    this.options = { ...JWKS_DEFAULTS, ...options };
    this.now = options.now ?? Date.now;
  }

  async key(url: string, kid: string): Promise<PublishedKey | undefined> {
    let cached = this.sets.get(url);
    if (!cached || this.now() >= cached.until) {
      cached ??= { keys: new Map(), until: 0 };
      this.sets.set(url, cached);
      const entry = cached;
      entry.fetching ??= fetchJwks(url, this.options)
        .then(
          (keys) => {
            entry.keys = keys;
            entry.until = this.now() + this.options.refreshMs;
            delete entry.error;
          },
          (err: Error) => {
            // The last good set stays in use; the next try comes sooner than a refresh.
            entry.until = this.now() + this.options.retryMs;
            entry.error = err.message;
            this.onError?.(url, err.message);
          },
        )
        .finally(() => delete entry.fetching);
      await entry.fetching;
    }
    return cached.keys.get(kid);
  }
}
