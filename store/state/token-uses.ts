// Which servers each token id was presented to (token_uses).
import { TupleParam } from '@clickhouse/client';
import { select, type Storage, type Tables } from '../client.js';

export function loadTokenUses(storage: Storage, tables: Tables, uses: [tenant: string, jti: string][]): Promise<{ tenant: string; jti: string; server_id: string }[]> {
  return select(
    storage,
    `SELECT tenant, jti, server_id FROM ${tables.tokenUses} FINAL
     WHERE (tenant, jti) IN {uses:Array(Tuple(String, String))}`,
    { uses: uses.map((use) => new TupleParam(use)) },
  );
}
