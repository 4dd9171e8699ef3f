// actorlog's own report key, and the signed manifest that makes a report
// file provably unaltered: the manifest names the file's SHA-256 and is a JWS
// signed with this key; `verifyReport` checks both.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, compactVerify, CompactSign, createLocalJWKSet, exportJWK, generateKeyPair, importJWK, type JWK, type JSONWebKeySet } from 'jose';

import { openCheckpoint } from '../transparency/verify.js';

export const MANIFEST_TYP = 'actorlog-report-manifest+jws';

export interface Manifest {
  v: 1;
  run_id: string;
  report: { id: string; name: string; kind: string; tenant: string; period: string; schedule: string; format: string; search?: unknown };
  period: { from: string; to: string };
  trigger: 'schedule' | 'manual';
  row_count: number;
  bytes: number;
  sha256: string;
  generated_at: string;
  generated_by: string;
  // What the report was computed against and over (docs/transparency-log.md):
  // the latest signed checkpoint of the transparency log at generation, the
  // emitters in the period with their seq ranges, the gaps and chain breaks
  // detected in it, and the events refused for the tenant.
  coverage?: {
    checkpoint: { size: number; note: string } | null;
    emitters: { source: string; first_seq: number; last_seq: number; events: number }[];
    gaps: { source: string; gap_from: number; gap_to: number; missing: number }[];
    chain_breaks: { source: string; seq: number; event_id: string }[];
    quarantined: number;
  };
}

export interface ReportKey {
  kid: string;
  sign(manifest: Manifest): Promise<string>;
  // Any other document actorlog signs with the same key (webhook findings).
  signAs(typ: string, payload: unknown): Promise<string>;
  jwks: JSONWebKeySet;
}

// Created on first use (mode 0600) next to the emitter registry; its public
// half is served at GET /v1/reports/jwks for auditors.
export async function loadReportKey(file: string): Promise<ReportKey> {
  let privateJwk: JWK;
  if (fs.existsSync(file)) {
    privateJwk = JSON.parse(fs.readFileSync(file, 'utf8')) as JWK;
  } else {
    const { privateKey } = await generateKeyPair('EdDSA', { extractable: true });
    const jwk = await exportJWK(privateKey);
    const { d: _d, ...pub } = jwk;
    privateJwk = { ...jwk, kid: await calculateJwkThumbprint(pub), alg: 'EdDSA', use: 'sig' };
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(privateJwk), { mode: 0o600, flag: 'wx' });
  }
  const { d: _d, ...publicJwk } = privateJwk;
  const key = await importJWK(privateJwk, 'EdDSA');
  const kid = privateJwk.kid!;
  const signAs = (typ: string, payload: unknown) =>
    new CompactSign(Buffer.from(JSON.stringify(payload))).setProtectedHeader({ alg: 'EdDSA', kid, typ }).sign(key);
  return {
    kid,
    jwks: { keys: [publicJwk] },
    sign: (manifest) => signAs(MANIFEST_TYP, manifest),
    signAs,
  };
}

export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export type Verdict = { ok: true; manifest: Manifest } | { ok: false; reason: string };

// With the transparency log's key, the coverage is checked too: the
// checkpoint the report names must be signed by that log and be the size stated.
export async function verifyReport(file: Uint8Array, manifestJws: string, jwks: JSONWebKeySet, logKey?: string): Promise<Verdict> {
  let manifest: Manifest;
  try {
    const { payload, protectedHeader } = await compactVerify(manifestJws.trim(), createLocalJWKSet(jwks), { algorithms: ['EdDSA'] });
    if (protectedHeader.typ !== MANIFEST_TYP) return { ok: false, reason: `manifest typ is not ${MANIFEST_TYP}` };
    manifest = JSON.parse(new TextDecoder().decode(payload)) as Manifest;
  } catch (err) {
    return { ok: false, reason: `the manifest signature does not verify: ${(err as Error).message}` };
  }
  const digest = sha256Hex(file);
  if (digest !== manifest.sha256) return { ok: false, reason: `the file's SHA-256 ${digest} is not the manifest's ${manifest.sha256}` };
  if (file.byteLength !== manifest.bytes) return { ok: false, reason: 'the file size differs from the manifest' };
  if (logKey !== undefined) {
    const checkpoint = manifest.coverage?.checkpoint;
    if (!checkpoint) return { ok: false, reason: 'the manifest names no transparency-log checkpoint, so its coverage cannot be checked' };
    try {
      const cp = openCheckpoint(checkpoint.note, logKey);
      if (cp.size !== checkpoint.size) return { ok: false, reason: `the manifest says checkpoint size ${checkpoint.size}, its signed checkpoint says ${cp.size}` };
    } catch (err) {
      return { ok: false, reason: `the manifest's checkpoint does not verify: ${(err as Error).message}` };
    }
  }
  return { ok: true, manifest };
}
