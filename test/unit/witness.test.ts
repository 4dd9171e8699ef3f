// The witness's decision: co-sign a checkpoint only if it extends the last
// one co-signed; refuse a rewritten history, a split view, a log gone back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consistencyProof, coordKey, leafHash, mapLookup, treeHead } from '../../lib/merkle/index.js';
import { cosignatureSigner, cosignatureTime, formatCheckpoint, generateNoteKey, openNote, parseCosignatureVerifierKey, parseSignerKey, parseVerifierKey, signNote } from '../../lib/note/index.js';
import { witnessCheckpoint } from '../../transparency/witness.js';

const log = generateNoteKey('example.test/log');
const witness = generateNoteKey('witness.example');
const logSigner = parseSignerKey(log.signerKey);
const witnessSigner = cosignatureSigner(witness.signerKey);

function tree(leaves: Buffer[]) {
  const hashes = new Map<string, Uint8Array>();
  for (let level = 0; 2 ** level <= leaves.length; level++) {
    for (let i = 0; (i + 1) * 2 ** level <= leaves.length; i++) hashes.set(coordKey({ level, index: i }), treeHead(leaves.slice(i * 2 ** level, (i + 1) * 2 ** level)));
  }
  return {
    checkpoint: (size: number) => signNote(formatCheckpoint({ origin: 'example.test/log', size, root: Buffer.from(treeHead(leaves.slice(0, size))), extensions: [] }), [logSigner]),
    proof: (from: number, to: number) => consistencyProof(from, to, mapLookup(hashes)).map((h) => Buffer.from(h).toString('base64')),
  };
}

const honest = tree(Array.from({ length: 8 }, (_, i) => leafHash(Buffer.from(`event ${i}`))));
const forked = tree(Array.from({ length: 8 }, (_, i) => leafHash(Buffer.from(i === 1 ? 'another event 1' : `event ${i}`))));

test('first contact is trusted, then each extension is checked and co-signed', () => {
  const first = witnessCheckpoint(undefined, honest.checkpoint(3), [], log.verifierKey, witnessSigner);
  assert.ok(first.ok);
  // The co-signature is a C2SP tlog-cosignature/v1 line stating when it was made.
  const opened = openNote(first.cosigned, [parseVerifierKey(log.verifierKey), parseCosignatureVerifierKey(witnessSigner.verifierKey)]);
  assert.deepEqual(opened.verified.map((s) => s.name), ['example.test/log', 'witness.example']);
  assert.ok(Math.abs(cosignatureTime(opened.verified[1]!.base64) - Date.now() / 1000) < 60);
  const next = witnessCheckpoint(first.cosigned, honest.checkpoint(6), honest.proof(3, 6), log.verifierKey, witnessSigner);
  assert.ok(next.ok);
  assert.equal(next.size, 6);
});

test('a rewritten history, a split view and a log gone back are refused', () => {
  const seen = witnessCheckpoint(undefined, honest.checkpoint(3), [], log.verifierKey, witnessSigner);
  assert.ok(seen.ok);
  const rewritten = witnessCheckpoint(seen.cosigned, forked.checkpoint(6), forked.proof(3, 6), log.verifierKey, witnessSigner);
  assert.deepEqual(rewritten, { ok: false, problem: "checkpoint size 6 is not an extension of checkpoint size 3: the log's history was rewritten (or the proof is wrong)" });
  const at6 = witnessCheckpoint(seen.cosigned, honest.checkpoint(6), honest.proof(3, 6), log.verifierKey, witnessSigner);
  assert.ok(at6.ok);
  const split = witnessCheckpoint(at6.cosigned, forked.checkpoint(6), [], log.verifierKey, witnessSigner);
  assert.deepEqual(split, { ok: false, problem: 'two different trees of size 6: the log shows a split view' });
  const back = witnessCheckpoint(at6.cosigned, honest.checkpoint(5), [], log.verifierKey, witnessSigner);
  assert.deepEqual(back, { ok: false, problem: 'the log went back from size 6 to 5' });
  const foreign = generateNoteKey('example.test/log');
  const unsigned = witnessCheckpoint(at6.cosigned, signNote(formatCheckpoint({ origin: 'example.test/log', size: 7, root: Buffer.alloc(32), extensions: [] }), [parseSignerKey(foreign.signerKey)]), [], log.verifierKey, witnessSigner);
  assert.equal(unsigned.ok, false);
  assert.match((unsigned as { problem: string }).problem, /not signed by the log key/);
});
