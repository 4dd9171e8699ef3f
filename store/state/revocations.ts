// Revocation state of grants, consents and humans (revocations).
import { TupleParam } from '@clickhouse/client';
import { select, type Storage, type Tables } from '../client.js';

export interface RevocationKey {
  tenant: string;
  kind: string;
  subject: string;
}

export function loadRevocations(storage: Storage, tables: Tables, subjects: RevocationKey[]): Promise<(RevocationKey & { revoked_at: string | null })[]> {
  return select(
    storage,
    `SELECT tenant, kind, subject, revoked_at FROM ${tables.revocations} FINAL
     WHERE (tenant, kind, subject) IN {subjects:Array(Tuple(String, String, String))}`,
    { subjects: subjects.map((s) => new TupleParam([s.tenant, s.kind, s.subject])) },
  );
}
