// Looks up the public key of (source, kid) and keeps each imported key for
// reuse: verification is the hot path and importing a key costs far more than
// checking one signature. The registry file is re-read when it changes, so a
// key registered while the processor runs is used without a restart. A kid
// the registry does not hold is looked up in the emitter's JWKS URL, if it
// names one (keys/jwks-url.ts): such a key is active while the set lists it.
import fs from 'node:fs';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { readRegistry, type RegisteredKey, type Registry } from '../keys/registry.js';
import { JwksCache, type JwksFetchOptions } from '../keys/jwks-url.js';
import { importPublicKey } from './signatures.js';

export interface ResolvedKey {
  key: KeyObject;
  jwk: JsonWebKey;
  // Names this key material (verification workers cache their import by it).
  ref: string;
  alg: RegisteredKey['alg'];
  state: RegisteredKey['state'];
  // Epoch milliseconds; undefined when the registry does not set them.
  notBefore?: number;
  notAfter?: number;
  retiredAt?: number;
  revokedAt?: number;
  // The tenants the emitter may report for; undefined: any.
  tenants?: readonly string[];
}

const ms = (iso: string | undefined) => (iso === undefined ? undefined : Date.parse(iso));

export class KeyResolver {
  private registry: Registry = { version: 1, emitters: {} };
  private seenMtimeMs = Number.NaN;
  private readonly imported = new Map<string, Promise<ResolvedKey>>();
  // Keys from JWKS URLs, imported once per key material (bounded).
  private readonly importedRemote = new Map<string, KeyObject>();
  private readonly remote: JwksCache;

  constructor(
    private readonly file: string,
    jwks: Partial<JwksFetchOptions> & { onError?: (url: string, message: string) => void } = {},
  ) {
    this.remote = new JwksCache(jwks, jwks.onError);
  }

  // Cheap (one stat); drivers call it once per batch.
  refresh(): void {
    let mtimeMs: number;
    try {
      mtimeMs = fs.statSync(this.file).mtimeMs;
    } catch {
      mtimeMs = 0;
    }
    if (mtimeMs === this.seenMtimeMs) return;
    this.registry = readRegistry(this.file);
    this.seenMtimeMs = mtimeMs;
    this.imported.clear();
  }

  resolve(source: string, kid: string): Promise<ResolvedKey | undefined> | undefined {
    const cacheKey = `${source}\u0000${kid}`;
    const cached = this.imported.get(cacheKey);
    if (cached) return cached;
    const entry = Object.hasOwn(this.registry.emitters, source) ? this.registry.emitters[source] : undefined;
    const registered = entry?.keys.find((k) => k.kid === kid);
    if (!registered) return entry?.jwks_url ? this.resolveRemote(entry.jwks_url, kid, entry.tenants) : undefined;
    const jwk = registered.public_jwk as JsonWebKey;
    const resolved = Promise.resolve().then(() => ({
      key: importPublicKey(jwk),
      jwk,
      ref: `${registered.alg}\u0000${jwk.crv}\u0000${jwk.x}\u0000${jwk.y ?? ''}`,
      alg: registered.alg,
      state: registered.state,
      notBefore: ms(registered.not_before),
      notAfter: ms(registered.not_after),
      retiredAt: ms(registered.retired_at),
      revokedAt: ms(registered.revoked_at),
      tenants: entry?.tenants,
    }));
    this.imported.set(cacheKey, resolved);
    return resolved;
  }

  // Not cached with the registered keys: each lookup asks the set as it is
  // now, so a key removed upstream stops resolving once the set is refetched.
  private async resolveRemote(url: string, kid: string, tenants: readonly string[] | undefined): Promise<ResolvedKey | undefined> {
    const published = await this.remote.key(url, kid);
    if (!published) return undefined;
    const { jwk, alg } = published;
    const ref = `${alg}\u0000${jwk.crv}\u0000${jwk.x}\u0000${jwk.y ?? ''}`;
    let key = this.importedRemote.get(ref);
    if (!key) {
      if (this.importedRemote.size >= 1024) this.importedRemote.delete(this.importedRemote.keys().next().value!);
      key = importPublicKey(jwk);
      this.importedRemote.set(ref, key);
    }
    return { key, jwk, ref, alg, state: 'active', tenants };
  }
}
