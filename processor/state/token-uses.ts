// Which servers each token id (jti) was presented to. One token at two
// different servers is evidence of token passthrough even when its `aud` was
// forged to match each: jti_reuse.
import { TupleParam } from '@clickhouse/client';
import type { Storage, Tables } from '../../lib/storage.js';
import { toClickHouseTime } from '../../lib/time.js';
import type { ActorlogEvent } from '../../schemas/event.js';
import type { Flag } from '../../schemas/row.js';

const MAX_CACHED = 200_000;

function use(event: ActorlogEvent): { key: string; tenant: string; jti: string; server: string } | undefined {
  const jti = event.token?.jti;
  const server = event.target?.server.id;
  return jti && server ? { key: `${event.tenant}\u0000${jti}`, tenant: event.tenant, jti, server } : undefined;
}

export class TokenUseState {
  private readonly servers = new Map<string, Set<string>>();

  constructor(
    private readonly storage: Storage,
    private readonly tables: Tables,
  ) {}

  async load(events: ActorlogEvent[]): Promise<void> {
    if (this.servers.size > MAX_CACHED) this.servers.clear();
    const wanted = new Map<string, [string, string]>();
    for (const e of events) {
      const u = use(e);
      if (u && !this.servers.has(u.key)) wanted.set(u.key, [u.tenant, u.jti]);
    }
    if (wanted.size === 0) return;
    const result = await this.storage.query({
      query: `SELECT tenant, jti, server_id FROM ${this.tables.tokenUses} FINAL
              WHERE (tenant, jti) IN {uses:Array(Tuple(String, String))}`,
      query_params: { uses: [...wanted.values()].map((use) => new TupleParam(use)) },
      format: 'JSONEachRow',
    });
    for (const key of wanted.keys()) this.servers.set(key, new Set());
    for (const row of await result.json<{ tenant: string; jti: string; server_id: string }>()) {
      this.servers.get(`${row.tenant}\u0000${row.jti}`)?.add(row.server_id);
    }
  }

  stage(): TokenUseStage {
    return new TokenUseStage(this.servers, this.tables);
  }
}

export class TokenUseStage {
  private readonly added = new Map<string, { tenant: string; jti: string; server: string; at: number; eventId: string }>();

  constructor(
    private readonly committed: Map<string, Set<string>>,
    private readonly tables: Tables,
  ) {}

  observe(event: ActorlogEvent): Flag[] {
    const u = use(event);
    if (!u) return [];
    const known = new Set(this.committed.get(u.key));
    for (const a of this.added.values()) if (`${a.tenant}\u0000${a.jti}` === u.key) known.add(a.server);
    const reused = [...known].some((server) => server !== u.server);
    if (!known.has(u.server)) this.added.set(`${u.key}\u0000${u.server}`, { ...u, at: Date.parse(event.time), eventId: event.id });
    return reused ? ['jti_reuse'] : [];
  }

  writes(): { table: string; values: Record<string, unknown>[] }[] {
    const values = [...this.added.values()].map((a) => ({
      tenant: a.tenant,
      jti: a.jti,
      server_id: a.server,
      first_seen: toClickHouseTime(a.at),
      event_id: a.eventId,
    }));
    return [{ table: this.tables.tokenUses, values }];
  }

  commit(): void {
    for (const a of this.added.values()) {
      const key = `${a.tenant}\u0000${a.jti}`;
      let set = this.committed.get(key);
      if (!set) this.committed.set(key, (set = new Set()));
      set.add(a.server);
    }
  }
}
