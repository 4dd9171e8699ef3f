// Emitter hash-chain heads (emitter_chains) and the breaks found (chain_breaks).
import { select, type Storage, type Tables } from '../client.js';

export interface ChainHeadRecord {
  source: string;
  last_seq: string;
  last_digest: string;
  last_id: string;
}

export function loadChainHeads(storage: Storage, tables: Tables, sources: string[]): Promise<ChainHeadRecord[]> {
  return select<ChainHeadRecord>(storage, `SELECT source, last_seq, last_digest, last_id FROM ${tables.emitterChains} FINAL WHERE source IN {sources:Array(String)}`, { sources });
}

export interface ChainBreakRecord {
  source: string;
  seq: string;
  event_id: string;
  expected: string;
  got: string;
  detected_at: string;
}

export function listChainBreaks(storage: Storage, tables: Tables, sources: string[] | null, limit: number): Promise<ChainBreakRecord[]> {
  return select<ChainBreakRecord>(
    storage,
    `SELECT source, seq, event_id, expected, got, detected_at FROM ${tables.chainBreaks} FINAL
     ${sources ? 'WHERE source IN {sources:Array(String)}' : ''} ORDER BY detected_at DESC LIMIT {limit:UInt32}`,
    { limit, ...(sources ? { sources } : {}) },
  );
}
