// `keys generate --out FILE` puts the private key where only its owner reads
// it, and never over an existing key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/actorlog.js', import.meta.url));

test('keys generate --out writes the private JWK 0600 in a 0700 folder and refuses to overwrite', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'actorlog-keys-out-'));
  try {
    const env = { ...process.env, DATA_DIR: path.join(dir, 'data') };
    const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { env, cwd: dir, encoding: 'utf8', timeout: 30_000 });
    const out = path.join(dir, 'secrets', 'gw.jwk');

    const first = run('keys', 'generate', '--emitter', 'gw:1', '--out', out);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stdout, '', 'the private key is not printed when --out is given');
    assert.equal(fs.statSync(out).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(out)).mode & 0o777, 0o700);
    const jwk = JSON.parse(fs.readFileSync(out, 'utf8')) as { d?: string; kid?: string };
    assert.equal(typeof jwk.d, 'string');

    const second = run('keys', 'generate', '--emitter', 'gw:2', '--out', out);
    assert.notEqual(second.status, 0);
    assert.match(second.stderr, /exists: --out never overwrites a key/);
    assert.deepEqual(JSON.parse(fs.readFileSync(out, 'utf8')), jwk);
    // The refused run registered nothing: no public key without its private half.
    const listed = run('keys', 'list');
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(listed.stdout.trim().split('\n').map((line) => line.split('\t')[0]), ['gw:1']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
