// Many event rows written straight into the engine, for tests and benchmarks
// that need volume fast: one real event is signed, normalised and stored, then
// copied by one INSERT ... SELECT from numbers(), each copy with its own id,
// seq (1..count) and time (10 ms apart, newest a second before `endAt`).
import path from 'node:path';
import { normalise } from '../../processor/normalise.js';
import { execute, type Storage, type Tables } from '../../store/client.js';
import { insertEvents } from '../../store/events.js';
import { EVENT_COLUMN_NAMES } from '../../schemas/row.js';
import { toClickHouseTime } from '../../lib/time.js';
import type { ActorlogEvent } from '../../schemas/event.js';
import { fullEvent, registeredEmitter, tempDir } from './fixtures.js';

export async function generateEvents(
  storage: Storage,
  tables: Tables,
  { tenant, source, count, endAt = Date.now(), denyEvery }: { tenant: string; source: string; count: number; endAt?: number; denyEvery?: number },
): Promise<void> {
  const emitter = await registeredEmitter(path.join(tempDir('actorlog-generated-'), 'emitters.json'), source);
  const event = fullEvent(source, { tenant, context: { session_id: 'generated' } }) as ActorlogEvent;
  const seed = normalise(event, { kid: 'generated', rawJws: await emitter.sign(event), ingestedAt: Date.now(), skew: { futureMs: 3_600_000, pastMs: 86_400_000 } });
  const seedTenant = `seed-${seed.id}`;
  await insertEvents(storage, tables, [{ ...seed, tenant: seedTenant }]);
  const overrides: Record<string, string> = {
    id: `concat({prefix:String}, toString(n.number))`,
    tenant: '{tenant:String}',
    source: '{source:String}',
    seq: 'n.number + 1',
    time: `{end:DateTime64(3, 'UTC')} - toIntervalMillisecond(n.number * 10)`,
    ingested_at: `{end:DateTime64(3, 'UTC')} - toIntervalMillisecond(n.number * 10)`,
    // One event in denyEvery denied, for reports that list denials.
    ...(denyEvery ? { outcome: `if(n.number % ${Math.trunc(denyEvery)} = 0, 'deny', e.outcome)` } : {}),
  };
  const columns = EVENT_COLUMN_NAMES as readonly string[];
  await execute(
    storage,
    `INSERT INTO ${tables.events} (${columns.join(', ')})
     SELECT ${columns.map((c) => overrides[c] ?? `e.${c}`).join(', ')}
     FROM (SELECT * FROM ${tables.events} WHERE tenant = {seed:String}) AS e CROSS JOIN numbers({count:UInt64}) AS n`,
    { prefix: `${tenant}-${source}-`, tenant, source, end: toClickHouseTime(endAt - 1_000), seed: seedTenant, count },
  );
}
