// actorlog's own report key, and the signed manifest that makes a report
// file provably unaltered: the manifest names the file's SHA-256 and is a JWS
// signed with this key; `verifyReport` checks both.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, compactVerify, CompactSign, createLocalJWKSet, exportJWK, generateKeyPair, importJWK, type JWK, type JSONWebKeySet } from 'jose';

import { openCheckpoint } from '../transparency/verify.js';
import type { ExportFormat } from '../schemas/export-formats.js';
import { FileTally, type Contents, type ContentsTally } from './contents.js';
import { parsePeriod } from './cron.js';
import { MAX_REPORT_ROWS } from './definition.js';

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
  // What the file holds, tallied from the rows as they were written: the
  // events of each emitter with their seq range, the earliest and latest time.
  contents?: Contents;
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

// ok: what was checked, one line each, for the auditor.
export type Verdict = { ok: true; manifest: Manifest; checked: string[] } | { ok: false; reason: string };

// A report whose file is every event of the tenant in the period (a saved
// search without filters, not cut at the row limit): its coverage must name
// exactly the file's emitters, counts and seq ranges.
export function fileIsWholeLog(manifest: Pick<Manifest, 'report' | 'row_count'>): boolean {
  const { kind, search } = manifest.report;
  return kind === 'saved_search' && Object.keys((search ?? {}) as object).length === 0 && manifest.row_count < MAX_REPORT_ROWS;
}

const sameEmitter = (a: Contents['emitters'][number], b: Contents['emitters'][number]) =>
  a.source === b.source && a.events === b.events && a.first_seq === b.first_seq && a.last_seq === b.last_seq;
const describe = (e: Contents['emitters'][number] | undefined) => (e ? `${e.events} events, seq ${e.first_seq}-${e.last_seq}` : 'none');

// The manifest's claims about the file and the period, rechecked against the
// file's own rows; a reason when one does not hold.
function recheck(manifest: Manifest, tally: ContentsTally): string | undefined {
  const from = Date.parse(manifest.period.from);
  const to = Date.parse(manifest.period.to);
  let periodMs: number;
  try {
    periodMs = parsePeriod(manifest.report.period);
  } catch {
    return `the manifest's report period "${manifest.report.period}" is not one`;
  }
  if (to - from !== periodMs) return `the manifest's period ${manifest.period.from} to ${manifest.period.to} is not the report's ${manifest.report.period}`;
  if (tally.rows !== manifest.row_count) return `the file has ${tally.rows} rows, the manifest says ${manifest.row_count}`;
  if (tally.unreadable.length > 0) return `the file has times that are not times: ${tally.unreadable.join(', ')}`;
  const found = tally.result();
  if (found.first_time !== null && (Date.parse(found.first_time) < from || Date.parse(found.last_time!) >= to)) {
    return `the file has rows from ${found.first_time} to ${found.last_time}, outside the period ${manifest.period.from} to ${manifest.period.to}`;
  }
  const claimed = manifest.contents;
  if (!claimed) return undefined;
  if (claimed.first_time !== found.first_time || claimed.last_time !== found.last_time) {
    return `the manifest says the rows run from ${claimed.first_time} to ${claimed.last_time}, the file's from ${found.first_time} to ${found.last_time}`;
  }
  for (const source of new Set([...claimed.emitters, ...found.emitters].map((e) => e.source))) {
    const said = claimed.emitters.find((e) => e.source === source);
    const has = found.emitters.find((e) => e.source === source);
    if (!said || !has || !sameEmitter(said, has)) return `emitter ${source}: the manifest says the file has ${describe(said)}, the file has ${describe(has)}`;
  }
  const coverage = manifest.coverage;
  if (!coverage) return undefined;
  // The file's events are some of the tenant's in the period: each emitter
  // within what the coverage says the log held; all of them when the file is the whole log.
  for (const has of found.emitters) {
    const covered = coverage.emitters.find((e) => e.source === has.source);
    if (!covered || has.events > covered.events || has.first_seq < covered.first_seq || has.last_seq > covered.last_seq) {
      return `emitter ${has.source}: the file has ${describe(has)}, beyond the coverage's ${describe(covered)}`;
    }
  }
  if (fileIsWholeLog(manifest)) {
    for (const covered of coverage.emitters) {
      const has = found.emitters.find((e) => e.source === covered.source);
      if (!has || !sameEmitter(has, covered)) return `emitter ${covered.source}: the coverage says the period holds ${describe(covered)}, the file (every event of the period) has ${describe(has)}`;
    }
  }
  return undefined;
}

// Checks a report file (its bytes, in chunks: a file of any size) against
// its signed manifest: the signature, the file's SHA-256 and size, then the
// manifest's row count, period, contents and coverage against the file's
// own rows. With the transparency log's key, the checkpoint the coverage
// names must be signed by that log and be the size stated.
export async function verifyReportStream(file: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, manifestJws: string, jwks: JSONWebKeySet, logKey?: string): Promise<Verdict> {
  let manifest: Manifest;
  try {
    const { payload, protectedHeader } = await compactVerify(manifestJws.trim(), createLocalJWKSet(jwks), { algorithms: ['EdDSA'] });
    if (protectedHeader.typ !== MANIFEST_TYP) return { ok: false, reason: `manifest typ is not ${MANIFEST_TYP}` };
    manifest = JSON.parse(new TextDecoder().decode(payload)) as Manifest;
  } catch (err) {
    return { ok: false, reason: `the manifest signature does not verify: ${(err as Error).message}` };
  }
  const hash = createHash('sha256');
  const tally = new FileTally(manifest.report.format as ExportFormat);
  let bytes = 0;
  let unreadable: string | undefined;
  for await (const chunk of file) {
    hash.update(chunk);
    bytes += chunk.byteLength;
    if (unreadable === undefined) {
      try {
        tally.push(chunk);
      } catch (err) {
        unreadable = (err as Error).message;
      }
    }
  }
  const digest = hash.digest('hex');
  if (digest !== manifest.sha256) return { ok: false, reason: `the file's SHA-256 ${digest} is not the manifest's ${manifest.sha256}` };
  if (bytes !== manifest.bytes) return { ok: false, reason: 'the file size differs from the manifest' };
  let counted: ContentsTally | undefined;
  try {
    if (unreadable === undefined) counted = tally.end();
  } catch (err) {
    unreadable = (err as Error).message;
  }
  if (!counted) return { ok: false, reason: `the file cannot be read as ${manifest.report.format}: ${unreadable}` };
  const wrong = recheck(manifest, counted);
  if (wrong) return { ok: false, reason: wrong };
  const checked = [`signature, SHA-256 and size of the file`, `${counted.rows} rows and every time in the period`];
  checked.push(
    manifest.contents
      ? `the events per emitter and seq ranges the manifest states, recounted from the file${manifest.coverage ? `, within the coverage${fileIsWholeLog(manifest) ? ' (equal to it: the file is every event of the period)' : ''}` : ''}`
      : 'the manifest states no contents (made before they were stated): emitters and seq ranges not rechecked',
  );
  if (logKey !== undefined) {
    const checkpoint = manifest.coverage?.checkpoint;
    if (!checkpoint) return { ok: false, reason: 'the manifest names no transparency-log checkpoint, so its coverage cannot be checked' };
    try {
      const cp = openCheckpoint(checkpoint.note, logKey);
      if (cp.size !== checkpoint.size) return { ok: false, reason: `the manifest says checkpoint size ${checkpoint.size}, its signed checkpoint says ${cp.size}` };
    } catch (err) {
      return { ok: false, reason: `the manifest's checkpoint does not verify: ${(err as Error).message}` };
    }
    checked.push(`the transparency-log checkpoint (size ${checkpoint.size}) is signed by the log key`);
  }
  return { ok: true, manifest, checked };
}

export function verifyReport(file: Uint8Array, manifestJws: string, jwks: JSONWebKeySet, logKey?: string): Promise<Verdict> {
  return verifyReportStream([file], manifestJws, jwks, logKey);
}
