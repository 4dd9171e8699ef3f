// A key id may begin with '-' (base64url, 1 in 64 thumbprints): `keys revoke
// --kid <id>` must take it as the id, not as an option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyPairSync } from 'node:crypto';
import { readRegistry } from '../../keys/registry.js';

const bin = fileURLToPath(new URL('../../../bin/actorlog.js', import.meta.url));

test('keys revoke --kid takes a key id that begins with a dash, as --kid ID and as --kid=ID', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'actorlog-keys-kid-'));
  try {
    const env = { ...process.env, DATA_DIR: path.join(dir, 'data') };
    const run = (args: string[], input?: string) => spawnSync(process.execPath, [bin, ...args], { env, cwd: dir, input, encoding: 'utf8', timeout: 30_000 });
    for (const kid of ['-dash-first', '--two-dashes']) {
      const publicJwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
      const imported = run(['keys', 'import', '--emitter', 'gw:dash', '-'], JSON.stringify({ ...publicJwk, kid }));
      assert.equal(imported.status, 0, imported.stderr);
    }
    const spaced = run(['keys', 'revoke', '--emitter', 'gw:dash', '--kid', '-dash-first']);
    assert.equal(spaced.status, 0, spaced.stderr);
    const joined = run(['keys', 'revoke', '--emitter', 'gw:dash', '--kid=--two-dashes']);
    assert.equal(joined.status, 0, joined.stderr);
    const keys = readRegistry(path.join(dir, 'data', 'keys', 'emitters.json')).emitters['gw:dash']!.keys;
    assert.deepEqual(keys.map((k) => [k.kid, k.state]), [['-dash-first', 'revoked'], ['--two-dashes', 'revoked']]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
