// Verifies a report run in the browser, as `actorlog report verify` does on
// the command line: the manifest's JWS signature against the published JWKS
// (GET /v1/reports/jwks), its typ, then the file's SHA-256 and size against
// the manifest. Loaded on demand, so jose is not in the first load.
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';

export const MANIFEST_TYP = 'actorlog-report-manifest+jws';

export interface Verdict {
  ok: boolean;
  reason?: string;
  kid?: string;
  alg?: string;
  sha256?: string;
  manifest?: Record<string, unknown>;
}

const hex = (buf: ArrayBuffer) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');

export async function verifyReport(file: Uint8Array, manifestJws: string, jwks: JSONWebKeySet): Promise<Verdict> {
  let manifest: Record<string, unknown>;
  let kid: string | undefined;
  let alg: string | undefined;
  try {
    const { payload, protectedHeader } = await compactVerify(manifestJws.trim(), createLocalJWKSet(jwks), { algorithms: ['EdDSA'] });
    kid = protectedHeader.kid;
    alg = protectedHeader.alg;
    if (protectedHeader.typ !== MANIFEST_TYP) return { ok: false, kid, alg, reason: `the manifest typ is not ${MANIFEST_TYP}` };
    manifest = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
  } catch (err) {
    return { ok: false, reason: `the manifest signature does not verify: ${(err as Error).message}` };
  }
  const sha256 = hex(await crypto.subtle.digest('SHA-256', file as Uint8Array<ArrayBuffer>));
  if (sha256 !== manifest.sha256) return { ok: false, kid, alg, sha256, manifest, reason: `the file's SHA-256 ${sha256} is not the manifest's ${String(manifest.sha256)}` };
  if (file.byteLength !== manifest.bytes) return { ok: false, kid, alg, sha256, manifest, reason: `the file has ${file.byteLength} bytes, the manifest says ${String(manifest.bytes)}` };
  return { ok: true, kid, alg, sha256, manifest };
}
