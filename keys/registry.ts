// The emitter key registry: which public keys each emitter may sign with.
// One JSON file (by default DATA_DIR/keys/emitters.json) that the CLI writes
// and the processor reads; writes are atomic (temp file + rename) so a reader
// never sees half a file.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ALLOWED_ALGS } from '../schemas/event.js';
import { ActorlogError } from '../lib/errors.js';

const publicJwkSchema = z
  .object({ kty: z.string(), crv: z.string().optional(), x: z.string().optional(), y: z.string().optional() })
  .catchall(z.unknown())
  .refine((jwk) => !('d' in jwk), 'a registry holds public keys only');

const instant = z.iso.datetime({ offset: true });

// Key states: `active` signs new events; `retired` (after a rotation) still
// verifies events dated before `retired_at`, so old events stay verifiable;
// `revoked` (compromised) verifies only events both dated and received before
// `revoked_at`. `not_before`/`not_after` bound any key's validity.
export const registeredKeySchema = z.object({
  kid: z.string().min(1),
  alg: z.enum(ALLOWED_ALGS),
  state: z.enum(['active', 'retired', 'revoked']).default('active'),
  created_at: instant,
  not_before: instant.optional(),
  not_after: instant.optional(),
  retired_at: instant.optional(),
  revoked_at: instant.optional(),
  public_jwk: publicJwkSchema,
});

export const registrySchema = z.object({
  version: z.literal(1),
  emitters: z.record(
    z.string().min(1),
    z.object({
      keys: z.array(registeredKeySchema),
      // The tenants this emitter may report for; unset means any. A gateway of
      // one customer cannot then write into another's audit trail.
      tenants: z.array(z.string().min(1)).optional(),
      // Where the emitter publishes more of its public keys (keys/jwks-url.ts):
      // a kid not registered here is looked up in that set.
      jwks_url: z.string().min(1).optional(),
    }),
  ),
});

export type RegisteredKey = z.infer<typeof registeredKeySchema>;
export type Registry = z.infer<typeof registrySchema>;

export const emptyRegistry = (): Registry => ({ version: 1, emitters: {} });

export function readRegistry(file: string): Registry {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyRegistry();
    throw new ActorlogError('KEY_REGISTRY_INVALID', `${file}: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ActorlogError('KEY_REGISTRY_INVALID', `${file}: not JSON`, { cause: err });
  }
  const parsed = registrySchema.safeParse(json);
  if (!parsed.success) {
    throw new ActorlogError('KEY_REGISTRY_INVALID', `${file}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

export function writeRegistry(file: string, registry: Registry): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${JSON.stringify(registry, null, 2)}\n`, { mode: 0o644 });
  fs.renameSync(temp, file);
}

// Read-modify-write of one emitter's keys. The CLI is the only writer; the
// rename keeps readers safe.
export function updateEmitterKeys(file: string, emitter: string, change: (keys: RegisteredKey[]) => RegisteredKey[]): RegisteredKey[] {
  const registry = readRegistry(file);
  const entry = (registry.emitters[emitter] ??= { keys: [] });
  entry.keys = change(entry.keys);
  writeRegistry(file, registry);
  return entry.keys;
}

export function registerKey(file: string, emitter: string, key: RegisteredKey): void {
  updateEmitterKeys(file, emitter, (keys) => [...keys.filter((k) => k.kid !== key.kid), key]);
}

export function setEmitterTenants(file: string, emitter: string, tenants: string[]): void {
  const registry = readRegistry(file);
  const entry = (registry.emitters[emitter] ??= { keys: [] });
  entry.tenants = tenants;
  writeRegistry(file, registry);
}

export function setEmitterJwksUrl(file: string, emitter: string, url: string, tenants?: string[]): void {
  const registry = readRegistry(file);
  const entry = (registry.emitters[emitter] ??= { keys: [] });
  entry.jwks_url = url;
  if (tenants && tenants.length > 0) entry.tenants = tenants;
  writeRegistry(file, registry);
}
