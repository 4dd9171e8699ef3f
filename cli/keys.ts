// `actorlog keys generate|rotate|import|revoke|list`: the emitter key registry from
// the shell. Private keys go to stdout once and are never stored by actorlog.
import { parseArgs } from 'node:util';
import type { Config } from '../lib/config.js';
import { ActorlogError } from '../lib/errors.js';
import { generateAndRegister, type SigningAlg } from '../keys/generate.js';
import { listKeys, revokeKey, rotateKey } from '../keys/lifecycle.js';
import fs from 'node:fs';
import { importPublicJwk } from '../keys/import.js';
import { setEmitterTenants } from '../keys/registry.js';

const usage = 'usage: actorlog keys generate|rotate --emitter ID [--alg EdDSA|ES256] [--tenant T ...] | import --emitter ID [--alg EdDSA|Ed25519|ES256] [--tenant T ...] FILE|- | revoke --emitter ID --kid KID [--at TIME] | list [--emitter ID]';

export async function keysCommand(config: Config, args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      emitter: { type: 'string' },
      alg: { type: 'string' },
      kid: { type: 'string' },
      at: { type: 'string' },
      tenant: { type: 'string', multiple: true },
    },
  });
  const action = positionals[0];
  const file = config.keysFile;
  const emitter = values.emitter;
  if (action === 'import') {
    if (!emitter || !positionals[1]) throw new ActorlogError('BAD_REQUEST', usage);
    const text = positionals[1] === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(positionals[1], 'utf8');
    let jwk: Record<string, unknown>;
    try {
      jwk = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new ActorlogError('BAD_REQUEST', 'the key file is not JSON (expected one public JWK)');
    }
    const key = await importPublicJwk(file, emitter, jwk, { ...(values.alg ? { alg: values.alg } : {}), ...(values.tenant ? { tenants: values.tenant } : {}) });
    process.stdout.write(`${key.kid}\n`);
    process.stderr.write(`registered public key ${key.kid} (${key.alg}) for ${emitter} in ${file}\n`);
    return 0;
  }
  const algOption = values.alg ?? 'EdDSA';
  if (algOption !== 'EdDSA' && algOption !== 'ES256') throw new ActorlogError('BAD_REQUEST', '--alg is EdDSA or ES256');
  const alg = algOption as SigningAlg;

  if (action === 'list') {
    for (const k of listKeys(file, emitter)) {
      const times = [`created ${k.created_at}`, k.retired_at && `retired ${k.retired_at}`, k.revoked_at && `revoked ${k.revoked_at}`].filter(Boolean);
      process.stdout.write(`${k.emitter}\t${k.kid}\t${k.alg}\t${k.state}\t${times.join(', ')}\n`);
    }
    return 0;
  }
  if (!emitter) throw new ActorlogError('BAD_REQUEST', usage);
  if (action === 'generate' || action === 'rotate') {
    const key = action === 'generate' ? await generateAndRegister(file, emitter, alg) : await rotateKey(file, emitter, alg);
    if (values.tenant) setEmitterTenants(file, emitter, values.tenant);
    process.stdout.write(`${JSON.stringify(key.privateJwk)}\n`);
    process.stderr.write(`registered ${action === 'rotate' ? 'new active ' : ''}key ${key.kid} for ${emitter} in ${file}; keep the private JWK secret\n`);
    return 0;
  }
  if (action === 'revoke') {
    if (!values.kid) throw new ActorlogError('BAD_REQUEST', usage);
    const at = values.at ? new Date(values.at) : new Date();
    if (Number.isNaN(at.getTime())) throw new ActorlogError('BAD_REQUEST', '--at must be an RFC 3339 time');
    const key = revokeKey(file, emitter, values.kid, at);
    process.stderr.write(`revoked key ${key.kid} of ${emitter} as of ${key.revoked_at}\n`);
    return 0;
  }
  throw new ActorlogError('BAD_REQUEST', usage);
}
