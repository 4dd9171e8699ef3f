// `actorlog witness`: co-signs a log's checkpoints, each only after checking
// it extends the last one this witness co-signed (docs/transparency-log.md).
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ActorlogError } from '../lib/errors.js';
import { parseCheckpoint } from '../lib/note/index.js';
import { loadWitnessKey, witnessCheckpoint, witnessState } from '../transparency/witness.js';

const usage = `usage: actorlog witness --log URL --log-key KEY --state DIR [--name NAME] [--token-file FILE] [--once] [--interval MS]
  URL: the query API; KEY: the log's verifier key or a file holding it`;

async function fetchText(url: string, token: string | undefined): Promise<string> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(30_000) });
  const body = await res.text();
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${body.slice(0, 200)}`);
  return body;
}

const textOf = (note: string) => note.slice(0, note.lastIndexOf('\n\n') + 1);

export async function witnessCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      log: { type: 'string' },
      'log-key': { type: 'string' },
      state: { type: 'string' },
      name: { type: 'string', default: 'actorlog-witness' },
      'token-file': { type: 'string' },
      once: { type: 'boolean', default: false },
      interval: { type: 'string', default: '30000' },
    },
  });
  if (!values.log || !values['log-key'] || !values.state) throw new ActorlogError('BAD_REQUEST', usage);
  const logKey = fs.existsSync(values['log-key']) ? fs.readFileSync(values['log-key'], 'utf8').trim() : values['log-key'];
  const token = values['token-file'] ? fs.readFileSync(values['token-file'], 'utf8').trim() : undefined;
  const key = loadWitnessKey(path.join(values.state, 'witness.key'), values.name);
  const state = witnessState(values.state);
  process.stdout.write(`witness key ${key.verifierKey}\n`);

  const round = async (): Promise<boolean> => {
    const note = await fetchText(`${values.log}/v1/log/checkpoint`, token);
    const last = state.last();
    if (last !== undefined && textOf(last) === textOf(note)) return true;
    let proof: string[] = [];
    if (last !== undefined) {
      const from = parseCheckpoint(textOf(last)).size;
      const to = parseCheckpoint(textOf(note)).size;
      if (to > from) proof = (JSON.parse(await fetchText(`${values.log}/v1/log/consistency?from=${from}&to=${to}`, token)) as { proof: string[] }).proof;
    }
    const step = witnessCheckpoint(last, note, proof, logKey, key.signer);
    if (!step.ok) {
      process.stderr.write(`REFUSED: ${step.problem}\n`);
      return false;
    }
    state.record(step.size, step.cosigned);
    process.stdout.write(`co-signed checkpoint size ${step.size}\n`);
    return true;
  };

  if (values.once) return (await round()) ? 0 : 1;
  for (;;) {
    try {
      await round();
    } catch (err) {
      process.stderr.write(`witness round failed: ${(err as Error).message}\n`);
    }
    await sleep(Number(values.interval));
  }
}
