// C2SP tlog-cosignature/v1 (Ed25519): the signed message, the key ID, the
// timestamped signature layout, replaying the vectors published with the
// spec and with transparency-dev/formats (note_cosigv1_test.go).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import {
  cosignatureSigner,
  cosignatureTime,
  cosignNote,
  formatCheckpoint,
  generateNoteKey,
  NoteKeyError,
  openNote,
  parseCosignatureVerifierKey,
  parseSignerKey,
  parseVerifierKey,
  signNote,
} from '../../lib/note/index.js';

test('vectors: the timestamp of published cosignature lines', () => {
  // transparency-dev/formats TestCosignatureTimestamp "works".
  assert.equal(cosignatureTime('ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA=='), 1727964367);
  // The spec's example witness line, whose signed message reads "time 1679315147".
  assert.equal(cosignatureTime('jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA=='), 1679315147);
  // "wrong type of signature" (a plain Ed25519 note signature) and "gibberish".
  assert.throws(() => cosignatureTime('eQjRQm6eSKzFoiYalgwCPXu2y3ijtg68is9M46JKxuZB+dRfTmeQeDBoXnvxZx2ugnkyV+MUMLXpWs1hPb/W/4xkNQY='), /not a cosignature/);
  assert.throws(() => cosignatureTime('5%/$!\n 2'), /not a cosignature/);
});

test('vectors: cosigner verifier keys (TestCoSigV1NewVerifier)', () => {
  // Native type 0x04, its key hash computed with 0x04.
  assert.equal(parseCosignatureVerifierKey('remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2').name, 'remora.n621.de');
  // An ordinary Ed25519 note key (0x01), converted: its cosignature key ID differs.
  const converted = parseCosignatureVerifierKey('TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6');
  assert.notEqual(converted.hash, 0x7997405c);
  for (const bad of [
    'bananas.sigstore.dev+12344556',
    'rekor.sigstore.dev+12345678+THIS_IS_NOT_BASE64!',
    'rekor.sigstore.dev+12345678+AwEB',
    'rekor.sigstore.dev+NOT_A_NUMBER+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2',
    'remora.n621.de+00000000+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2',
  ]) {
    assert.throws(() => parseCosignatureVerifierKey(bad), NoteKeyError, bad);
  }
});

test('a cosignature is key ID || big-endian timestamp || Ed25519 over "cosignature/v1\\ntime T\\n" and the whole checkpoint', () => {
  const log = generateNoteKey('example.com/behind-the-sofa');
  const witness = generateNoteKey('witness.example.com/w1');
  const text = formatCheckpoint({ origin: 'example.com/behind-the-sofa', size: 20852163, root: Buffer.from('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=', 'base64'), extensions: ['an extension line'] });
  const signer = cosignatureSigner(witness.signerKey, () => 1679315147_999);
  const cosigned = cosignNote(signNote(text, [parseSignerKey(log.signerKey)]), signer);

  const line = cosigned.trimEnd().split('\n').pop()!;
  assert.ok(line.startsWith('\u2014 witness.example.com/w1 '));
  const bytes = Buffer.from(line.split(' ').pop()!, 'base64');
  assert.equal(bytes.length, 4 + 8 + 64);
  const publicKey = Buffer.from(witness.verifierKey.split('+').slice(2).join('+'), 'base64').subarray(1);
  const keyId = createHash('sha256').update('witness.example.com/w1\n').update(Buffer.of(0x04)).update(publicKey).digest().subarray(0, 4);
  assert.deepEqual(bytes.subarray(0, 4), keyId);
  assert.equal(bytes.readBigUInt64BE(4), 1679315147n);
  // Checked with node:crypto alone, independently of the verifier under test.
  const spki = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), publicKey]), format: 'der', type: 'spki' });
  assert.ok(verify(null, Buffer.from(`cosignature/v1\ntime 1679315147\n${text}`), spki, bytes.subarray(12)));
  assert.equal(signer.verifierKey, `witness.example.com/w1+${keyId.toString('hex')}+${Buffer.concat([Buffer.of(0x04), publicKey]).toString('base64')}`);

  // Verified by the cosigner's key, as 0x04 or as its ordinary 0x01 vkey.
  for (const vkey of [signer.verifierKey, witness.verifierKey]) {
    const opened = openNote(cosigned, [parseVerifierKey(log.verifierKey), parseCosignatureVerifierKey(vkey)]);
    assert.deepEqual(opened.verified.map((s) => s.name), ['example.com/behind-the-sofa', 'witness.example.com/w1']);
  }
  // An ordinary note verifier does not take a cosignature for its own.
  assert.throws(() => openNote(cosigned, [parseVerifierKey(witness.verifierKey)]), /no verifiable signatures/);
  // The extension lines are covered.
  assert.throws(() => openNote(cosigned.replace('an extension line', 'another extension'), [parseCosignatureVerifierKey(signer.verifierKey)]), /invalid signature/);
  // And the timestamp: changing it breaks the signature.
  const shifted = Buffer.from(bytes);
  shifted.writeBigUInt64BE(1679315148n, 4);
  assert.throws(() => openNote(cosigned.replace(bytes.toString('base64'), shifted.toString('base64')), [parseCosignatureVerifierKey(signer.verifierKey)]), /invalid signature/);
});
