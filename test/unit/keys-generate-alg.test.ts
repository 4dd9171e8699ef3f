// `actorlog keys generate --alg Ed25519`: RFC 9864's fully specified name for
// EdDSA over Ed25519 is a choice beside EdDSA and ES256, and what it registers
// is a working Ed25519 key pair labelled Ed25519 on both halves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/actorlog.js', import.meta.url));

function actorlog(dataDir: string, ...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, DATA_DIR: dataDir }, encoding: 'utf8', timeout: 30_000 });
}

test('keys generate --alg Ed25519 prints an Ed25519 private JWK and registers its public half under Ed25519', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'actorlog-keys-alg-'));
  try {
    const generated = actorlog(dataDir, 'keys', 'generate', '--emitter', 'gw:rfc9864', '--alg', 'Ed25519');
    assert.equal(generated.status, 0, generated.stderr);
    const jwk = JSON.parse(generated.stdout);
    assert.deepEqual([jwk.kty, jwk.crv, jwk.alg], ['OKP', 'Ed25519', 'Ed25519']);
    const registry = JSON.parse(fs.readFileSync(path.join(dataDir, 'keys', 'emitters.json'), 'utf8'));
    const [key] = registry.emitters['gw:rfc9864'].keys;
    assert.deepEqual([key.kid, key.alg, key.public_jwk.alg, key.public_jwk.d], [jwk.kid, 'Ed25519', 'Ed25519', undefined]);
    // The two halves belong together.
    const data = Buffer.from('actorlog');
    const signature = sign(null, data, createPrivateKey({ key: jwk, format: 'jwk' }));
    assert.ok(verify(null, data, createPublicKey({ key: key.public_jwk, format: 'jwk' }), signature));

    const refused = actorlog(dataDir, 'keys', 'generate', '--emitter', 'gw:rsa', '--alg', 'RS256');
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /--alg is EdDSA, Ed25519 or ES256/);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dataDir, 'keys', 'emitters.json'), 'utf8')).emitters['gw:rsa'], undefined);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the usage of keys generate names Ed25519', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'actorlog-keys-alg-'));
  try {
    const help = actorlog(dataDir, 'keys', 'generate', '--help');
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /keys generate --emitter ID \[--alg EdDSA\|Ed25519\|ES256\]/);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
