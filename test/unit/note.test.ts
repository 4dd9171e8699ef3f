// C2SP signed notes and checkpoints against the Go sumdb/note and tlog vectors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatCheckpoint,
  generateNoteKey,
  openNote,
  parseCheckpoint,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  verifierKeyOf,
} from '../../lib/note/index.js';
import { BAD_VERIFIERS, ENOCH_SIG, ENOCH_VERIFIER, PETER_SIG, PETER_SIGNER, PETER_VERIFIER, TEXT } from '../fixtures/note-vectors.js';
import { GO_TREE_NOTE } from '../fixtures/merkle-vectors.js';

test('keys: the Go vectors parse, their key hashes match, mangled ones are refused', () => {
  const peter = parseVerifierKey(PETER_VERIFIER);
  assert.equal(peter.name, 'PeterNeumann');
  assert.equal(peter.hash, 0xc74f20a3);
  assert.equal(parseVerifierKey(ENOCH_VERIFIER).hash, 0xaf0cfe78);
  assert.equal(parseSignerKey(PETER_SIGNER).hash, 0xc74f20a3);
  assert.equal(verifierKeyOf(PETER_SIGNER), PETER_VERIFIER);
  for (const bad of BAD_VERIFIERS) assert.throws(() => parseVerifierKey(bad), /key/);
  const b = Buffer.from(PETER_VERIFIER);
  for (let i = 0; i < b.length; i++) {
    b[i]!++;
    assert.throws(() => parseVerifierKey(b.toString()), /key|Invalid/, `mangled at ${i}`);
    b[i]!--;
  }
  for (let j = 1; j < PETER_VERIFIER.length; j++) assert.throws(() => parseVerifierKey(PETER_VERIFIER.slice(0, j)), /key/);
});

test('sign: byte for byte the Go signature line', () => {
  assert.equal(signNote(TEXT, [parseSignerKey(PETER_SIGNER)]), `${TEXT}\n${PETER_SIG}`);
  assert.throws(() => signNote('abc', [parseSignerKey(PETER_SIGNER)]), /malformed note/);
});

test('open: verified, unverified and bad signatures', () => {
  const peter = parseVerifierKey(PETER_VERIFIER);
  const enoch = parseVerifierKey(ENOCH_VERIFIER);
  const msg = `${TEXT}\n${PETER_SIG}${ENOCH_SIG}`;
  const one = openNote(msg, [peter]);
  assert.equal(one.text, TEXT);
  assert.deepEqual(one.verified.map((s) => s.name), ['PeterNeumann']);
  assert.deepEqual(one.unverified.map((s) => s.name), ['EnochRoot']);
  assert.equal(openNote(msg, [peter, enoch]).verified.length, 2);
  assert.throws(() => openNote(msg, []), /no verifiable signatures/);
  assert.throws(() => openNote(`${TEXT}\n${ENOCH_SIG}`, [enoch, peter, enoch]), /ambiguous key EnochRoot\+af0cfe78/);
  assert.throws(() => openNote(`${TEXT}\n${PETER_SIG.repeat(101)}`, [peter]), /malformed note/);
  assert.throws(() => openNote(`${TEXT}\n${PETER_SIG.slice(0, 60)}ABCD${PETER_SIG.slice(60)}`, [peter]), /invalid signature for key PeterNeumann\+c74f20a3/);
  const altered = `${TEXT.replace('answer', 'ANSWER')}\n${PETER_SIG}`;
  assert.throws(() => openNote(altered, [peter]), /invalid signature/);
  for (const bad of [TEXT, `${TEXT}\n`, `${TEXT}\n${PETER_SIG.slice(0, -1)}`, `\x01${TEXT}\n${PETER_SIG}`, `${TEXT}\n\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`, `${TEXT}\n${PETER_SIG}Unexpected line.\n`]) {
    assert.throws(() => openNote(bad, [peter]), /malformed note/, JSON.stringify(bad));
  }
});

test('generated keys sign notes their verifier opens', () => {
  const { signerKey, verifierKey } = generateNoteKey('example.com/log');
  assert.equal(verifierKeyOf(signerKey), verifierKey);
  const note = signNote('hello\n', [parseSignerKey(signerKey)]);
  assert.equal(openNote(note, [parseVerifierKey(verifierKey)]).text, 'hello\n');
  assert.throws(() => generateNoteKey('two words'), /cannot name a key/);
});

test('checkpoint: the Go tree note parses and formats back; bad ones are refused', () => {
  const cp = parseCheckpoint(GO_TREE_NOTE);
  assert.equal(cp.origin, 'go.sum database tree');
  assert.equal(cp.size, 123456789012);
  assert.equal(formatCheckpoint(cp), GO_TREE_NOTE);
  const withExt = formatCheckpoint({ ...cp, extensions: ['Timestamp: 1'] });
  assert.deepEqual(parseCheckpoint(withExt).extensions, ['Timestamp: 1']);
  for (const bad of [
    GO_TREE_NOTE.replace('123456789012', '0xabcdef'),
    GO_TREE_NOTE.replace('123456789012', '0123'),
    GO_TREE_NOTE.replace('Bb0=', 'BTOOBIG='),
    GO_TREE_NOTE.slice(0, -1),
    `\n123\n${GO_TREE_NOTE.split('\n')[2]}\n`,
    `${GO_TREE_NOTE}\n`,
  ]) {
    assert.throws(() => parseCheckpoint(bad), /checkpoint|origin|size|root|extension/, JSON.stringify(bad));
  }
});
