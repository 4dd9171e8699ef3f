// Seeds N synthetic events straight into the embedded engine (the ingest
// path is measured by pipeline.bench), spread evenly over the last `days`
// days, in two tenants (one in ten is globex), with 500 humans, 40 agents,
// 5,000 sessions, 3,000 token ids and an `attrs.ticket` of 20,000 values.
// One event is normalised; the others are its row with those columns varied
// (normalising a million events would time the seeding, not the search).
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Storage, Tables } from '../../store/client.js';
import { insertEvents } from '../../store/events.js';
import type { EventRow } from '../../schemas/row.js';
import { toClickHouseTime } from '../../lib/time.js';
import { storedRow } from '../helpers/fixtures.js';

export async function seedEvents(storage: Storage, tables: Tables, total: number, days = 7): Promise<{ seconds: number; start: number }> {
  const span = days * 86_400_000;
  const start = Date.now() - span;
  const template = storedRow('gw:bench', Date.now(), 'bench');
  const began = performance.now();
  for (let offset = 0; offset < total; offset += 50_000) {
    const rows: EventRow[] = [];
    for (let i = offset; i < Math.min(total, offset + 50_000); i++) {
      const time = toClickHouseTime(start + Math.floor((i / total) * span));
      rows.push({
        ...template,
        id: randomUUID(),
        seq: i,
        time,
        ingested_at: time,
        tenant: i % 10 === 0 ? 'globex' : 'acme',
        human_sub: `u-${i % 500}`,
        agent_id: `agent:${i % 40}`,
        agent_runtime_id: `spiffe://x/${i % 40}`,
        session_id: `s-${i % 5000}`,
        token_jti: `jti-${i % 3000}`,
        outcome: i % 17 === 0 ? 'deny' : 'allow',
        flags: i % 101 === 0 ? ['token_passthrough'] : [],
        attrs: { ticket: `TICKET-${i % 20_000}`, approved_by: `u-${(i * 7) % 500}` },
      });
    }
    await insertEvents(storage, tables, rows);
  }
  return { seconds: (performance.now() - began) / 1000, start };
}
