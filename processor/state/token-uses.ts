// Which servers each token id (jti) was presented to. One token at two
// different servers is evidence of token passthrough even when its `aud` was
// forged to match each: jti_reuse.
import type { Storage, Tables } from '../../store/client.js';
import { loadTokenUses } from '../../store/state/token-uses.js';
import type { StateWrite } from '../../store/state/writes.js';
import { toClickHouseTime } from '../../lib/time.js';
import type { ActorlogEvent } from '../../schemas/event.js';
import type { Flag } from '../../schemas/flags.js';

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

  // Drops what is cached, so the next batch reads it from storage again.
  forget(): void {
    this.servers.clear();
  }

  async load(events: ActorlogEvent[]): Promise<void> {
    if (this.servers.size > MAX_CACHED) this.servers.clear();
    const wanted = new Map<string, [string, string]>();
    for (const e of events) {
      const u = use(e);
      if (u && !this.servers.has(u.key)) wanted.set(u.key, [u.tenant, u.jti]);
    }
    if (wanted.size === 0) return;
    const rows = await loadTokenUses(this.storage, this.tables, [...wanted.values()]);
    for (const key of wanted.keys()) this.servers.set(key, new Set());
    for (const row of rows) {
      this.servers.get(`${row.tenant}\u0000${row.jti}`)?.add(row.server_id);
    }
  }

  stage(): TokenUseStage {
    return new TokenUseStage(this.servers);
  }
}

export class TokenUseStage {
  private readonly added = new Map<string, { tenant: string; jti: string; server: string; at: number; eventId: string }>();

  constructor(private readonly committed: Map<string, Set<string>>) {}

  observe(event: ActorlogEvent): Flag[] {
    const u = use(event);
    if (!u) return [];
    const known = new Set(this.committed.get(u.key));
    for (const a of this.added.values()) if (`${a.tenant}\u0000${a.jti}` === u.key) known.add(a.server);
    const reused = [...known].some((server) => server !== u.server);
    if (!known.has(u.server)) this.added.set(`${u.key}\u0000${u.server}`, { ...u, at: Date.parse(event.time), eventId: event.id });
    return reused ? ['jti_reuse'] : [];
  }

  writes(): StateWrite[] {
    const values = [...this.added.values()].map((a) => ({
      tenant: a.tenant,
      jti: a.jti,
      server_id: a.server,
      first_seen: toClickHouseTime(a.at),
      event_id: a.eventId,
    }));
    return [{ table: 'tokenUses', values }];
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
