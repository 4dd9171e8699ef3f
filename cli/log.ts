// `actorlog log export|checkpoint|key`: the transparency log from the shell,
// straight from storage (for an instance that is not running, or a ClickHouse
// server); a running embedded instance serves the same at /v1/log/*.
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import type { Config } from '../lib/config.js';
import { ActorlogError } from '../lib/errors.js';
import { checkpointAt, latestCheckpoint } from '../store/transparency-log.js';
import { LogAppender } from '../transparency/appender.js';
import { publishCheckpoint } from '../transparency/checkpoints.js';
import { exportLog } from '../transparency/export.js';
import { loadLogKey } from '../transparency/log-key.js';
import { openContext } from './services.js';

const usage = 'usage: actorlog log export [--out FILE] [--size N] | checkpoint | key';

export async function logCommand(config: Config, args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { out: { type: 'string' }, size: { type: 'string' } } });
  if (positionals[0] === 'key') {
    process.stdout.write(`${loadLogKey(config.log.signingKeyFile, config.log.origin).verifierKey}\n`);
    return 0;
  }
  if (positionals[0] !== 'export' && positionals[0] !== 'checkpoint') throw new ActorlogError('BAD_REQUEST', usage);
  const ctx = await openContext(config, 'log');
  try {
    const { storage, tables } = ctx;
    if (positionals[0] === 'checkpoint') {
      const key = loadLogKey(config.log.signingKeyFile, config.log.origin);
      const cp = await publishCheckpoint({ storage, tables, appender: new LogAppender(storage, tables), key, dir: config.log.checkpointDir });
      process.stdout.write(cp.note);
      return 0;
    }
    const cp = values.size ? await checkpointAt(storage, tables, Number(values.size)) : await latestCheckpoint(storage, tables);
    if (!cp) throw new ActorlogError('NOT_FOUND', values.size ? `no checkpoint of size ${values.size}` : 'no checkpoint published yet');
    const out: NodeJS.WritableStream = values.out ? fs.createWriteStream(values.out, { mode: 0o600 }) : process.stdout;
    await pipeline(Readable.from(exportLog(storage, tables, cp)), out, { end: Boolean(values.out) });
    process.stderr.write(`export against checkpoint size ${cp.size}\n`);
    return 0;
  } finally {
    await ctx.storage.close();
  }
}
