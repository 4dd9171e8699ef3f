// `actorlog keys generate|rotate|import|revoke|list`: the emitter key registry from
// the shell. Private keys go to stdout once, or to a new file of --out, and are
// never stored by actorlog.
import { parseArgs } from 'node:util';
import type { Config } from '../lib/config.js';
import { ActorlogError } from '../lib/errors.js';
import { generateAndRegister, type SigningAlg } from '../keys/generate.js';
import { listKeys, revokeKey, rotateKey } from '../keys/lifecycle.js';
import fs from 'node:fs';
import path from 'node:path';
import { importPublicJwk } from '../keys/import.js';
import { setEmitterJwksUrl, setEmitterTenants } from '../keys/registry.js';
import { checkJwksUrl } from '../keys/jwks-url.js';

const usage = 'usage: actorlog keys generate|rotate --emitter ID [--alg EdDSA|Ed25519|ES256] [--tenant T ...] [--out FILE] | import --emitter ID [--alg EdDSA|Ed25519|ES256] [--tenant T ...] FILE|- | jwks-url --emitter ID [--tenant T ...] URL | revoke --emitter ID --kid KID [--at TIME] | list [--emitter ID]';

// A new file for a private key: its folder made 0700 if missing, the file 0600,
// refused if it exists (a key is never overwritten).
function openNewSecretFile(file: string): number {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  try {
    return fs.openSync(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ActorlogError('BAD_REQUEST', `${file} exists: --out never overwrites a key`);
    throw err;
  }
}

// A key id is base64url and may begin with '-' (1 in 64 thumbprints), which
// the option parser would take for an option: the word after --kid is its value.
export function kidAsValue(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--kid' && i + 1 < args.length) out.push(`--kid=${args[++i]}`);
    else out.push(args[i]!);
  }
  return out;
}

export async function keysCommand(config: Config, args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: kidAsValue(args),
    allowPositionals: true,
    options: {
      emitter: { type: 'string' },
      alg: { type: 'string' },
      kid: { type: 'string' },
      at: { type: 'string' },
      tenant: { type: 'string', multiple: true },
      out: { type: 'string' },
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
  if (action === 'jwks-url') {
    if (!emitter || !positionals[1]) throw new ActorlogError('BAD_REQUEST', usage);
    const url = checkJwksUrl(positionals[1]);
    setEmitterJwksUrl(file, emitter, url, values.tenant);
    process.stderr.write(`${emitter} verifies with the keys published at ${url} (fetched and cached; refreshed every 5 minutes)\n`);
    return 0;
  }
  const algOption = values.alg ?? 'EdDSA';
  if (algOption !== 'EdDSA' && algOption !== 'Ed25519' && algOption !== 'ES256') throw new ActorlogError('BAD_REQUEST', '--alg is EdDSA, Ed25519 or ES256');
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
    // The --out file is created (0600, never over an existing one) before the
    // key is registered, so a refused path leaves no key without its private half.
    const out = values.out ? openNewSecretFile(values.out) : undefined;
    try {
      const key = action === 'generate' ? await generateAndRegister(file, emitter, alg) : await rotateKey(file, emitter, alg);
      if (values.tenant) setEmitterTenants(file, emitter, values.tenant);
      const privateJwk = `${JSON.stringify(key.privateJwk)}\n`;
      if (out !== undefined) fs.writeSync(out, privateJwk);
      else process.stdout.write(privateJwk);
      process.stderr.write(
        `registered ${action === 'rotate' ? 'new active ' : ''}key ${key.kid} for ${emitter} in ${file}; ${values.out ? `private JWK in ${values.out}` : 'keep the private JWK secret'}\n`,
      );
    } catch (err) {
      if (out !== undefined) fs.rmSync(values.out!, { force: true });
      throw err;
    } finally {
      if (out !== undefined) fs.closeSync(out);
    }
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
