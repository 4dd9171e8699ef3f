// `actorlog verify`: offline checks an auditor runs with only files in hand
// (docs/transparency-log.md). Exit 0 verified, 1 not verified.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { JsonWebKey } from 'node:crypto';
import { verifySignedEvent } from '@actorlog/sdk';
import { ActorlogError } from '../lib/errors.js';
import { verifyCheckpoints, verifyCosignatures, verifyExport, type Verdict } from '../transparency/verify.js';

const usage = `usage: actorlog verify --key KEY --checkpoint CHECKPOINT --export EXPORT.ndjson [--records DIR]
       actorlog verify --key KEY --checkpoint NEWER --old OLDER --proof PROOF.json
       actorlog verify --key KEY --checkpoint COSIGNED --witness WITNESS_KEY [--witness ...]
       actorlog verify --event EVENT --emitter-key JWK
  KEY: the log's verifier key, or a file holding it (GET /v1/log/key)
  DIR: signed expiry records kept apart from the export (expiry-*.note, e.g. a copy of LOG_CHECKPOINT_DIR)
  WITNESS_KEY: a witness's cosignature verifier key, or a file holding it; each named witness must have co-signed
  EVENT: one signed event (a compact JWS or one event of a signed batch), or a file holding it
  JWK: the emitter's public JWK, or a file holding it`;

const keyOrFile = (value: string) => (fs.existsSync(value) ? fs.readFileSync(value, 'utf8').trim() : value);

// One event alone against its emitter's public key: what an auditor holding
// a single event (from an export, a report or the event API) can check.
function verifyOneEvent(event: string, jwk: string): number {
  const check = verifySignedEvent(keyOrFile(event), JSON.parse(keyOrFile(jwk)) as JsonWebKey);
  if (!check.ok) return report({ ok: false, problems: [check.problem], notes: [] });
  const where = check.batch ? `leaf ${check.batch.index} of a signed batch of ${check.batch.size}` : 'signed alone';
  return report({ ok: true, problems: [], notes: [`event ${String(check.event.id)} from ${String(check.event.source)}: ${where}, signature valid`] });
}

function* fileLines(file: string): Generator<string> {
  const fd = fs.openSync(file, 'r');
  const chunk = Buffer.alloc(1 << 20);
  let rest = '';
  try {
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      const text = rest + chunk.toString('utf8', 0, n);
      const lines = text.split('\n');
      rest = lines.pop()!;
      yield* lines;
    }
    if (rest !== '') yield rest;
  } finally {
    fs.closeSync(fd);
  }
}

function report(verdict: Verdict): number {
  for (const note of verdict.notes) process.stdout.write(`${note}\n`);
  if (verdict.ok) {
    process.stdout.write('VERIFIED\n');
    return 0;
  }
  for (const problem of verdict.problems) process.stderr.write(`FAILED: ${problem}\n`);
  process.stderr.write('NOT VERIFIED\n');
  return 1;
}

export function verifyCommand(args: string[]): number {
  const { values } = parseArgs({
    args,
    options: {
      key: { type: 'string' },
      checkpoint: { type: 'string' },
      export: { type: 'string' },
      old: { type: 'string' },
      proof: { type: 'string' },
      records: { type: 'string' },
      witness: { type: 'string', multiple: true },
      event: { type: 'string' },
      'emitter-key': { type: 'string' },
    },
  });
  if (values.event || values['emitter-key']) {
    if (!values.event || !values['emitter-key']) throw new ActorlogError('BAD_REQUEST', usage);
    return verifyOneEvent(values.event, values['emitter-key']);
  }
  if (!values.key || !values.checkpoint || (!values.export && !(values.old && values.proof) && !values.witness)) throw new ActorlogError('BAD_REQUEST', usage);
  const key = keyOrFile(values.key);
  const checkpoint = fs.readFileSync(values.checkpoint, 'utf8');
  let code = 0;
  if (values.witness) code = Math.max(code, report(verifyCosignatures(checkpoint, key, values.witness.map(keyOrFile))));
  if (values.old && values.proof) {
    const parsed = JSON.parse(fs.readFileSync(values.proof, 'utf8')) as { proof?: string[] } | string[];
    const proof = Array.isArray(parsed) ? parsed : (parsed.proof ?? []);
    code = Math.max(code, report(verifyCheckpoints(fs.readFileSync(values.old, 'utf8'), checkpoint, proof, key)));
  }
  const records = values.records
    ? fs
        .readdirSync(values.records)
        .filter((f) => /^expiry-.*\.note$/.test(f))
        .sort()
        .map((f) => fs.readFileSync(path.join(values.records!, f), 'utf8'))
    : [];
  if (values.export) code = Math.max(code, report(verifyExport(fileLines(values.export), checkpoint, key, records)));
  return code;
}
