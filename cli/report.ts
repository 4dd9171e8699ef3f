// `actorlog report run|verify`: produce a report file and its signed manifest
// from the shell, and prove a file and manifest unaltered.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { JSONWebKeySet } from 'jose';
import type { Config } from '../lib/config.js';
import { ActorlogError } from '../lib/errors.js';
import { ReportService } from '../reports/service.js';
import { loadReportKey, verifyReportStream } from '../reports/signing.js';
import { openContext } from './services.js';

const usage = 'usage: actorlog report run --id REPORT_ID [--out DIR] | verify --file FILE --manifest FILE.jws [--jwks JWKS.json] [--log-key KEY]';

export async function reportCommand(config: Config, args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { id: { type: 'string' }, out: { type: 'string', default: '.' }, file: { type: 'string' }, manifest: { type: 'string' }, jwks: { type: 'string' }, 'log-key': { type: 'string' } },
  });
  if (positionals[0] === 'verify') {
    if (!values.file || !values.manifest) throw new ActorlogError('BAD_REQUEST', usage);
    // The key to trust: a JWKS the auditor was given (GET /v1/reports/jwks), or this installation's own.
    // Verifying never creates a key: without --jwks, the installation's key must exist.
    if (!values.jwks && !fs.existsSync(config.reports.signingKeyFile)) {
      throw new ActorlogError('BAD_REQUEST', `no report key at ${config.reports.signingKeyFile}: give --jwks (GET /v1/reports/jwks of the installation that signed it)`);
    }
    const jwks = values.jwks ? (JSON.parse(fs.readFileSync(values.jwks, 'utf8')) as JSONWebKeySet) : (await loadReportKey(config.reports.signingKeyFile)).jwks;
    const logKey = values['log-key'] && fs.existsSync(values['log-key']) ? fs.readFileSync(values['log-key'], 'utf8').trim() : values['log-key'];
    const verdict = await verifyReportStream(fs.createReadStream(values.file), fs.readFileSync(values.manifest, 'utf8'), jwks, logKey);
    if (!verdict.ok) {
      process.stderr.write(`NOT VERIFIED: ${verdict.reason}\n`);
      return 1;
    }
    const m = verdict.manifest;
    process.stdout.write(
      `verified: ${m.report.name} (${m.report.kind}, tenant ${m.report.tenant}), ${m.period.from} to ${m.period.to}, ${m.row_count} rows, sha256 ${m.sha256}, generated ${m.generated_at} by ${m.generated_by}\n`,
    );
    const c = m.coverage;
    if (c) {
      process.stdout.write(
        `coverage: ${c.checkpoint ? `transparency-log checkpoint size ${c.checkpoint.size}${logKey ? ' (signature verified)' : ' (pass --log-key to verify it)'}` : 'no checkpoint'}; ` +
          `${c.emitters.length} emitters (${c.emitters.map((e) => `${e.source} seq ${e.first_seq}-${e.last_seq}`).join(', ')}); ` +
          `${c.gaps.length} sequence gaps, ${c.chain_breaks.length} chain breaks, ${c.quarantined} refused\n`,
      );
    }
    for (const line of verdict.checked) process.stdout.write(`checked: ${line}\n`);
    return 0;
  }
  if (positionals[0] === 'run') {
    if (!values.id) throw new ActorlogError('BAD_REQUEST', usage);
    const ctx = await openContext(config, 'report');
    try {
      const service = new ReportService({ ...ctx, key: await loadReportKey(config.reports.signingKeyFile) });
      const definition = await service.get(null, values.id);
      const run = await service.runNow(definition, `cli:${process.env.USER ?? 'unknown'}`);
      if (run.status !== 'ok') throw new ActorlogError('INTERNAL', run.error);
      const file = (await service.runFile(null, run.run_id))!;
      const base = path.join(values.out, `actorlog-report-${run.run_id}`);
      fs.mkdirSync(values.out, { recursive: true });
      if ('path' in file) fs.copyFileSync(file.path, `${base}.${definition.format}`);
      else fs.writeFileSync(`${base}.${definition.format}`, file.content);
      fs.writeFileSync(`${base}.manifest.jws`, file.manifest);
      process.stdout.write(`${base}.${definition.format}\n${base}.manifest.jws\n`);
      process.stderr.write(`${run.row_count} rows, sha256 ${run.sha256}\n`);
      return 0;
    } finally {
      await ctx.storage.close();
    }
  }
  throw new ActorlogError('BAD_REQUEST', usage);
}
