// The findings a stored event raises, and the document a subscriber
// receives for one (signed as a JWS, docs/webhooks.md).
import { createHash } from 'node:crypto';
import type { EventRow } from '../schemas/row.js';
import { rowTime } from '../lib/time.js';
import type { FallingSilent } from '../store/state/sequences.js';
import type { FindingKind, Subscription } from './subscriptions.js';

export const FINDING_TYP = 'actorlog-finding+jws';

export interface Finding {
  v: 1;
  // stable for one subscriber, one event and one kind: a receiver deduplicates on it
  delivery_id: string;
  subscription_id: string;
  kind: FindingKind;
  tenant: string;
  flags: string[];
  // the event that raised it (absent for an emitter found silent by the watcher)
  event?: {
    id: string;
    type: string;
    time: string;
    source: string;
    seq: number;
    human_sub: string;
    agent_id: string;
    server_id: string;
    tool_name: string;
    outcome: string;
  };
  // where the full event is: GET /v1/events/{id}
  event_path?: string;
  // emitter_silent from the watcher: who went quiet, and since when
  emitter?: { source: string; last_seen: string; silent_after_ms: number };
}

const OWN_KIND: Record<string, FindingKind> = { sequence_gap: 'sequence_gap', emitter_silent: 'emitter_silent', chain_break: 'chain_break' };

export function findingKinds(flags: readonly string[]): Map<FindingKind, string[]> {
  const kinds = new Map<FindingKind, string[]>();
  for (const flag of flags) {
    const kind = OWN_KIND[flag] ?? 'flag';
    kinds.set(kind, [...(kinds.get(kind) ?? []), flag]);
  }
  return kinds;
}


export function deliveryId(subscriptionId: string, eventId: string, kind: string): string {
  return createHash('sha256').update(`${subscriptionId}\n${eventId}\n${kind}`).digest('hex').slice(0, 32);
}

// Every (subscription, finding) pair one stored row gives.
export function findingsFor(row: EventRow, subscriptions: readonly Subscription[]): { subscription: Subscription; finding: Finding }[] {
  const out: { subscription: Subscription; finding: Finding }[] = [];
  for (const [kind, flags] of findingKinds(row.flags)) {
    for (const subscription of subscriptions) {
      if (subscription.tenant !== row.tenant || !subscription.kinds.includes(kind)) continue;
      out.push({
        subscription,
        finding: {
          v: 1,
          delivery_id: deliveryId(subscription.id, row.id, kind),
          subscription_id: subscription.id,
          kind,
          tenant: row.tenant,
          flags,
          event: {
            id: row.id,
            type: row.type,
            time: rowTime(row.time),
            source: row.source,
            seq: Number(row.seq),
            human_sub: row.human_sub,
            agent_id: row.agent_id,
            server_id: row.server_id,
            tool_name: row.tool_name,
            outcome: row.outcome,
          },
          event_path: `/v1/events/${encodeURIComponent(row.id)}`,
        },
      });
    }
  }
  return out;
}

// The watcher's findings: an emitter that sent nothing, not even a heartbeat,
// for longer than allowed (EMITTER_SILENT_AFTER_MS), once per silence.
export function silenceFindings(
  emitters: readonly FallingSilent[],
  subscriptions: readonly Subscription[],
  silentAfterMs: number,
): { subscription: Subscription; finding: Finding }[] {
  const out: { subscription: Subscription; finding: Finding }[] = [];
  for (const emitter of emitters) {
    const lastSeen = rowTime(emitter.last_seen);
    for (const subscription of subscriptions) {
      if (subscription.tenant !== emitter.tenant || !subscription.kinds.includes('emitter_silent')) continue;
      out.push({
        subscription,
        finding: {
          v: 1,
          delivery_id: deliveryId(subscription.id, `silent ${emitter.source} ${lastSeen}`, 'emitter_silent'),
          subscription_id: subscription.id,
          kind: 'emitter_silent',
          tenant: emitter.tenant,
          flags: [],
          emitter: { source: emitter.source, last_seen: lastSeen, silent_after_ms: silentAfterMs },
        },
      });
    }
  }
  return out;
}
