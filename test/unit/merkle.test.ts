// RFC 9162 hashing and proofs against the pinned public vectors, and the
// stored-hash path against the reference tree head on many sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  consistencyProof,
  coordKey,
  inclusionProof,
  leafHash,
  mapLookup,
  nodeHash,
  rangeHash,
  rootFromInclusionProof,
  treeHead,
  verifyConsistency,
  verifyInclusion,
  type Coord,
} from '../../lib/merkle/index.js';
import { CONSISTENCY_PROOFS, GO_TREE_NOTE, INCLUSION_PROOFS, LEAF_INPUTS_HEX, NODE_HASHES, ROOT_HASHES } from '../fixtures/merkle-vectors.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => Buffer.from(s, 'hex');
const leaves = LEAF_INPUTS_HEX.map((h) => leafHash(unhex(h)));
// What the log stores: every complete subtree of the 8-leaf tree.
const stored = new Map<string, Uint8Array>(NODE_HASHES.flatMap((level, l) => level.map((h, i) => [coordKey({ level: l, index: i }), unhex(h)] as const)));
const lookup = mapLookup(stored);

test('leaf and node hashes match the vectors at every level', () => {
  assert.deepEqual(leaves.map(hex), NODE_HASHES[0]);
  for (let level = 1; level < NODE_HASHES.length; level++) {
    NODE_HASHES[level]!.forEach((h, i) => {
      assert.equal(hex(nodeHash(unhex(NODE_HASHES[level - 1]![2 * i]!), unhex(NODE_HASHES[level - 1]![2 * i + 1]!))), h);
    });
  }
  const goHash = Buffer.from(GO_TREE_NOTE.split('\n')[2]!, 'base64');
  assert.equal(hex(leafHash(Buffer.from('hello world'))), hex(goHash));
});

test('tree heads of 0..8 leaves, from leaves and from stored subtrees', () => {
  for (let n = 0; n <= 8; n++) {
    assert.equal(hex(treeHead(leaves.slice(0, n))), ROOT_HASHES[n], `reference head of ${n}`);
    assert.equal(hex(rangeHash([0, n], lookup)), ROOT_HASHES[n], `stored-hash head of ${n}`);
  }
});

test('inclusion proofs: generated from stored hashes equal the vectors and verify', () => {
  for (const v of INCLUSION_PROOFS) {
    assert.deepEqual(inclusionProof(v.index, v.size, lookup).map(hex), v.proof, `proof of ${v.index} in ${v.size}`);
    assert.ok(verifyInclusion(v.index, v.size, leaves[v.index]!, v.proof.map(unhex), unhex(ROOT_HASHES[v.size]!)));
  }
});

test('inclusion: every leaf of every size up to 8 round-trips', () => {
  for (let n = 1; n <= 8; n++) {
    for (let i = 0; i < n; i++) {
      const proof = inclusionProof(i, n, lookup);
      assert.ok(verifyInclusion(i, n, leaves[i]!, proof, unhex(ROOT_HASHES[n]!)), `${i} in ${n}`);
    }
  }
});

test('inclusion: corrupted proofs and parameters are refused', () => {
  for (const v of INCLUSION_PROOFS.filter((p) => p.proof.length > 0)) {
    const root = unhex(ROOT_HASHES[v.size]!);
    const leaf = leaves[v.index]!;
    const proof = v.proof.map(unhex);
    const probes: [string, number, number, Uint8Array, Uint8Array[], Uint8Array][] = [
      ['index - 1', v.index - 1, v.size, leaf, proof, root],
      ['index + 1', v.index + 1, v.size, leaf, proof, root],
      ['index ^ 2', v.index ^ 2, v.size, leaf, proof, root],
      ['size * 2', v.index, v.size * 2, leaf, proof, root],
      ['size / 2', v.index, Math.floor(v.size / 2), leaf, proof, root],
      ['wrong leaf', v.index, v.size, leafHash(Buffer.from('WrongLeaf')), proof, root],
      ['empty root', v.index, v.size, leaf, proof, unhex(ROOT_HASHES[0]!)],
      ['trailing root', v.index, v.size, leaf, [...proof, root], root],
      ['preceding root', v.index, v.size, leaf, [root, ...proof], root],
      ['removed component', v.index, v.size, leaf, proof.slice(0, -1), root],
      ...proof.map((_, i): [string, number, number, Uint8Array, Uint8Array[], Uint8Array] => {
        const bad = proof.map((p) => Buffer.from(p));
        bad[i]![0]! ^= 8;
        return [`flipped bit in proof[${i}]`, v.index, v.size, leaf, bad, root];
      }),
    ];
    for (const [desc, index, size, l, p, r] of probes) {
      assert.equal(verifyInclusion(index, size, l, p, r), false, `${desc} (${v.index} in ${v.size}) must not verify`);
    }
  }
  assert.equal(rootFromInclusionProof(0, 0, leaves[0]!, []), null);
  assert.equal(rootFromInclusionProof(3, 2, leaves[0]!, []), null);
});

test('consistency proofs: generated from stored hashes equal the vectors and verify', () => {
  for (const v of CONSISTENCY_PROOFS) {
    assert.deepEqual(consistencyProof(v.size1, v.size2, lookup).map(hex), v.proof, `${v.size1} -> ${v.size2}`);
    assert.ok(verifyConsistency(v.size1, v.size2, v.proof.map(unhex), unhex(ROOT_HASHES[v.size1]!), unhex(ROOT_HASHES[v.size2]!)));
  }
});

test('consistency: every pair of sizes up to 8 round-trips, corruptions fail', () => {
  for (let m = 0; m <= 8; m++) {
    for (let n = m; n <= 8; n++) {
      const proof = consistencyProof(m, n, lookup);
      const r1 = unhex(ROOT_HASHES[m]!);
      const r2 = unhex(ROOT_HASHES[n]!);
      assert.ok(verifyConsistency(m, n, proof, r1, r2), `${m} -> ${n}`);
      if (proof.length === 0) continue;
      assert.equal(verifyConsistency(m, n, [], r1, r2), false, `${m} -> ${n} empty proof`);
      assert.equal(verifyConsistency(m, n, proof, r2, r1), false, `${m} -> ${n} swapped roots`);
      assert.equal(verifyConsistency(m, n, proof.slice(0, -1), r1, r2), false, `${m} -> ${n} truncated`);
      assert.equal(verifyConsistency(m, n, [...proof, r1], r1, r2), false, `${m} -> ${n} trailing root`);
      assert.equal(verifyConsistency(m - 1, n, proof, r1, r2), false, `${m} -> ${n} size1 - 1`);
      assert.equal(verifyConsistency(m, n * 2, proof, r1, r2), false, `${m} -> ${n} size2 * 2`);
      for (let i = 0; i < proof.length; i++) {
        const bad = proof.map((p) => Buffer.from(p));
        bad[i]![0]! ^= 16;
        assert.equal(verifyConsistency(m, n, bad, r1, r2), false, `${m} -> ${n} flipped proof[${i}]`);
      }
    }
  }
  assert.equal(verifyConsistency(2, 1, [], unhex(ROOT_HASHES[2]!), unhex(ROOT_HASHES[1]!)), false, 'no time travel');
  assert.equal(verifyConsistency(1, 1, [], unhex(ROOT_HASHES[1]!), unhex(ROOT_HASHES[2]!)), false, 'equal sizes need equal roots');
});

test('a rewritten history fails consistency', () => {
  const rewritten = [...leaves.slice(0, 3), leafHash(Buffer.from('rewritten')), ...leaves.slice(4)];
  const subtrees = new Map<string, Uint8Array>();
  // Stored hashes of the rewritten 8-leaf tree.
  for (let level = 0; 2 ** level <= 8; level++) {
    for (let i = 0; (i + 1) * 2 ** level <= 8; i++) {
      const c: Coord = { level, index: i };
      subtrees.set(coordKey(c), treeHead(rewritten.slice(i * 2 ** level, (i + 1) * 2 ** level)));
    }
  }
  const proof = consistencyProof(4, 8, mapLookup(subtrees));
  assert.equal(verifyConsistency(4, 8, proof, unhex(ROOT_HASHES[4]!), treeHead(rewritten)), false);
});

test('stored-hash heads equal reference heads on irregular sizes', () => {
  const many = Array.from({ length: 300 }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
  const subtrees = new Map<string, Uint8Array>();
  for (let level = 0; 2 ** level <= many.length; level++) {
    for (let i = 0; (i + 1) * 2 ** level <= many.length; i++) subtrees.set(coordKey({ level, index: i }), treeHead(many.slice(i * 2 ** level, (i + 1) * 2 ** level)));
  }
  const look = mapLookup(subtrees);
  for (const n of [1, 2, 3, 5, 7, 63, 64, 65, 127, 255, 256, 257, 299, 300]) {
    const root = treeHead(many.slice(0, n));
    assert.equal(hex(rangeHash([0, n], look)), hex(root), `head of ${n}`);
    for (const i of [0, Math.floor(n / 2), n - 1]) assert.ok(verifyInclusion(i, n, many[i]!, inclusionProof(i, n, look), root), `${i} in ${n}`);
    for (const m of [1, Math.floor(n / 3), n - 1].filter((m) => m > 0 && m <= n)) {
      assert.ok(verifyConsistency(m, n, consistencyProof(m, n, look), treeHead(many.slice(0, m)), root), `${m} -> ${n}`);
    }
  }
});
