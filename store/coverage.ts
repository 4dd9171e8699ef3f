// What a report's period covers, for its manifest: the emitters with their
// sequence ranges, the gaps and chain breaks detected, and the refused count.
import { select, type Storage, type Tables } from './client.js';
import { toClickHouseTime } from '../lib/time.js';

export interface Coverage {
  emitters: { source: string; first_seq: number; last_seq: number; events: number }[];
  gaps: { source: string; gap_from: number; gap_to: number; missing: number }[];
  chain_breaks: { source: string; seq: number; event_id: string }[];
  quarantined: number;
}

export async function coverageOf(storage: Storage, tables: Tables, tenant: string, window: { from: number; to: number }): Promise<Coverage> {
  const params = { tenant, from: toClickHouseTime(window.from), to: toClickHouseTime(window.to) };
  const inWindow = (column: string) => `${column} >= {from:DateTime64(3, 'UTC')} AND ${column} < {to:DateTime64(3, 'UTC')}`;
  const emitters = await select<{ source: string; first_seq: number; last_seq: number; events: number }>(
    storage,
    `SELECT source, min(seq) AS first_seq, max(seq) AS last_seq, count() AS events FROM ${tables.events} FINAL
     WHERE tenant = {tenant:String} AND ${inWindow('time')} GROUP BY source ORDER BY source`,
    params,
  );
  const sources = emitters.map((e) => e.source);
  const [gaps, breaks, [quarantine]] = await Promise.all([
    select<{ source: string; gap_from: number; gap_to: number; missing: number }>(
      storage,
      `SELECT source, gap_from, gap_to, missing FROM ${tables.sequenceGaps} FINAL
       WHERE source IN {sources:Array(String)} AND ${inWindow('detected_at')} ORDER BY source, gap_from`,
      { ...params, sources },
    ),
    select<{ source: string; seq: number; event_id: string }>(
      storage,
      `SELECT source, seq, event_id FROM ${tables.chainBreaks} FINAL
       WHERE source IN {sources:Array(String)} AND ${inWindow('detected_at')} ORDER BY source, seq`,
      { ...params, sources },
    ),
    select<{ n: number }>(storage, `SELECT count() AS n FROM ${tables.quarantine} FINAL WHERE claimed_tenant = {tenant:String} AND ${inWindow('received_at')}`, params),
  ]);
  const num = <T extends Record<string, unknown>>(rows: T[], keys: (keyof T)[]) => rows.map((r) => ({ ...r, ...Object.fromEntries(keys.map((k) => [k, Number(r[k])])) }));
  return {
    emitters: num(emitters, ['first_seq', 'last_seq', 'events']),
    gaps: num(gaps, ['gap_from', 'gap_to', 'missing']),
    chain_breaks: num(breaks, ['seq']),
    quarantined: Number(quarantine?.n ?? 0),
  };
}
