// What OCSF costs on the way out (the OCSF export and the SIEM stream encode
// each stored row with toOcsf + JSON.stringify), against the ceiling measured
// in the same run: the plain NDJSON export's JSON.stringify of the row. Also
// the validator, which runs in the tests, not on the way out.
// Usage: node dist/test/bench/ocsf.bench.js [ROWS] [RUNS]   (default 20000 rows, 5 runs)
import { performance } from 'node:perf_hooks';
import { demoEvents, DEMO_EMITTERS } from '../../cli/demo.js';
import { generateEmitterKey } from '../../keys/generate.js';
import { normalise } from '../../processor/normalise.js';
import type { ActorlogEvent } from '../../schemas/event.js';
import type { EventRow } from '../../schemas/row.js';
import { toOcsf } from '../../schemas/ocsf/map.js';
import { validateOcsf } from '../../schemas/ocsf/validate.js';
import { importSigningKey, signEvent } from '../../sdk/sign.js';
import { uuidv7 } from '../../sdk/uuidv7.js';

const total = Number(process.argv[2] ?? 20_000);
const runs = Number(process.argv[3] ?? 5);

// The demo's events (every kind it sends), signed and normalised once, then
// repeated under fresh ids up to `total` rows.
const key = await generateEmitterKey();
const signer = await importSigningKey(key.privateJwk);
const skew = { futureMs: 300_000, pastMs: 86_400_000 };
const templates: EventRow[] = [];
let seq = 0;
for (const { emitter, event: input } of demoEvents()) {
  const event = { specversion: '1.0', id: uuidv7(), source: DEMO_EMITTERS[emitter], seq: ++seq, ...input } as ActorlogEvent;
  templates.push(normalise(event, { kid: key.kid, rawJws: await signEvent(event, signer), ingestedAt: Date.now(), skew }));
}
const rows = Array.from({ length: total }, (_, i) => ({ ...templates[i % templates.length]!, id: uuidv7() }));

function measure(label: string, fn: (row: EventRow) => unknown): number[] {
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    for (const row of rows) fn(row);
    rates.push(total / ((performance.now() - start) / 1000));
  }
  rates.sort((a, b) => a - b);
  const [min, median, max] = [rates[0]!, rates[Math.floor(rates.length / 2)]!, rates[rates.length - 1]!];
  console.log(`${label.padEnd(34)} rows/s min ${min.toFixed(0)}  median ${median.toFixed(0)}  max ${max.toFixed(0)}`);
  return [min, median, max];
}

console.log(`OCSF encoding, ${total} rows (${templates.length} demo event shapes), ${runs} runs each`);
const ceiling = measure('NDJSON row (ceiling)', (row) => JSON.stringify(row));
const ocsf = measure('OCSF: toOcsf + JSON.stringify', (row) => JSON.stringify(toOcsf(row)));
const events = rows.map((row) => toOcsf(row));
let i = 0;
const validate = measure('validateOcsf (tests only)', () => validateOcsf(events[i++ % events.length]));
console.log(`OCSF / NDJSON median throughput: ${(ocsf[1]! / ceiling[1]!).toFixed(3)}  (validate / NDJSON: ${(validate[1]! / ceiling[1]!).toFixed(3)})`);
