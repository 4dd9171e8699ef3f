// `actorlog keys generate|rotate|revoke|list`: the emitter key registry from
// the shell. Private keys go to stdout once and are never stored by actorlog.
import { parseArgs } from 'node:util';
import type { Config } from '../lib/config.js';
import { ActorlogError } from '../lib/errors.js';
import { generateAndRegister, type SigningAlg } from '../keys/generate.js';
import { listKeys, revokeKey, rotateKey } from '../keys/lifecycle.js';
import { setEmitterTenants } from '../keys/registry.js';

const usage = 'usage: actorlog keys generate|rotate --emitter ID [--alg EdDSA|ES256] [--tenant T ...] | revoke --emitter ID --kid KID [--at TIME] | list [--emitter ID]';

export async function keysCommand(config: Config, args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      emitter: { type: 'string' },
      alg: { type: 'string', default: 'EdDSA' },
      kid: { type: 'string' },
      at: { type: 'string' },
      tenant: { type: 'string', multiple: true },
    },
  });
  const action = positionals[0];
  const file = config.keysFile;
  const emitter = values.emitter;
  if (values.alg !== 'EdDSA' && values.alg !== 'ES256') throw new ActorlogError('BAD_REQUEST', '--alg is EdDSA or ES256');
  const alg = values.alg as SigningAlg;

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
