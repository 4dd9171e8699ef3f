// Which grants, consents and humans were revoked, and when, from
// delegation.*, consent.* and identity.lifecycle events; agent actions dated
// at or after a revocation that covers them get after_revocation.
import type { Storage, Tables } from '../../store/client.js';
import { loadRevocations } from '../../store/state/revocations.js';
import type { StateWrite } from '../../store/state/writes.js';
import { fromClickHouseTime, toClickHouseTime } from '../../lib/time.js';
import { AGENT_ACTIONS, type ActorlogEvent } from '../../schemas/event.js';
import type { Flag } from '../../schemas/flags.js';
import { nextVersion } from './versions.js';

type Kind = 'grant' | 'consent' | 'human';
interface Subject {
  tenant: string;
  kind: Kind;
  subject: string;
}
const keyOf = (s: Subject) => `${s.tenant}\u0000${s.kind}\u0000${s.subject}`;

// Enough for the working set of an incident; beyond it the cache starts over
// and reloads what the next batches need.
const MAX_CACHED = 200_000;

function subjectsOf(event: ActorlogEvent): Subject[] {
  const out: Subject[] = [];
  const { tenant, delegation, human } = event;
  if (delegation?.grant_id) out.push({ tenant, kind: 'grant', subject: delegation.grant_id });
  if (delegation?.consent_id) out.push({ tenant, kind: 'consent', subject: delegation.consent_id });
  if (human) out.push({ tenant, kind: 'human', subject: human.sub });
  return out;
}

// What an event says about revocation: the subject and its new revoked_at
// (null: granted again), or nothing.
function changeOf(event: ActorlogEvent): { subject: Subject; revokedAt: number | null } | undefined {
  const { tenant, delegation, human, type } = event;
  const at = Date.parse(event.time);
  if (type === 'delegation.revoked' && delegation?.grant_id) return { subject: { tenant, kind: 'grant', subject: delegation.grant_id }, revokedAt: at };
  if (type === 'delegation.granted' && delegation?.grant_id) return { subject: { tenant, kind: 'grant', subject: delegation.grant_id }, revokedAt: null };
  if (type === 'consent.revoked' && delegation?.consent_id) return { subject: { tenant, kind: 'consent', subject: delegation.consent_id }, revokedAt: at };
  if (type === 'consent.granted' && delegation?.consent_id) return { subject: { tenant, kind: 'consent', subject: delegation.consent_id }, revokedAt: null };
  if (type === 'identity.lifecycle' && human && event.lifecycle) {
    if (event.lifecycle.change === 'leaver') return { subject: { tenant, kind: 'human', subject: human.sub }, revokedAt: at };
    if (event.lifecycle.change === 'joiner') return { subject: { tenant, kind: 'human', subject: human.sub }, revokedAt: null };
  }
  return undefined;
}

export class RevocationState {
  private readonly revokedAt = new Map<string, number | null>();

  constructor(
    private readonly storage: Storage,
    private readonly tables: Tables,
  ) {}

  // Drops what is cached, so the next batch reads it from storage again.
  forget(): void {
    this.revokedAt.clear();
  }

  async load(events: ActorlogEvent[]): Promise<void> {
    if (this.revokedAt.size > MAX_CACHED) this.revokedAt.clear();
    const wanted = new Map<string, Subject>();
    for (const e of events) for (const s of subjectsOf(e)) if (!this.revokedAt.has(keyOf(s))) wanted.set(keyOf(s), s);
    if (wanted.size === 0) return;
    const subjects = [...wanted.values()];
    const rows = await loadRevocations(this.storage, this.tables, subjects);
    for (const key of wanted.keys()) this.revokedAt.set(key, null);
    for (const row of rows) {
      this.revokedAt.set(keyOf(row as Subject), row.revoked_at === null ? null : Date.parse(fromClickHouseTime(row.revoked_at)));
    }
  }

  stage(): RevocationStage {
    return new RevocationStage(this.revokedAt);
  }
}

export class RevocationStage {
  private readonly staged = new Map<string, { subject: Subject; revokedAt: number | null; byEvent: string }>();

  constructor(private readonly committed: Map<string, number | null>) {}

  private revokedAt(key: string): number | null {
    const staged = this.staged.get(key);
    return staged ? staged.revokedAt : (this.committed.get(key) ?? null);
  }

  observe(event: ActorlogEvent): Flag[] {
    const change = changeOf(event);
    if (change) this.staged.set(keyOf(change.subject), { ...change, byEvent: event.id });
    if (!AGENT_ACTIONS.has(event.type)) return [];
    const at = Date.parse(event.time);
    const revoked = subjectsOf(event).some((s) => {
      const revokedAt = this.revokedAt(keyOf(s));
      return revokedAt !== null && revokedAt <= at;
    });
    return revoked ? ['after_revocation'] : [];
  }

  writes(): StateWrite[] {
    const values = [...this.staged.values()].map(({ subject, revokedAt, byEvent }) => ({
      ...subject,
      revoked_at: revokedAt === null ? null : toClickHouseTime(revokedAt),
      by_event: byEvent,
      version: nextVersion(),
    }));
    return [{ table: 'revocations', values }];
  }

  commit(): void {
    for (const [key, { revokedAt }] of this.staged) this.committed.set(key, revokedAt);
  }
}
