// Findings queued in the delivery log, signed, for the subscribers that want
// them: a BatchSink for the flags of each stored batch, and the silence
// watcher's findings. Queueing again is harmless: a finding keeps its
// delivery id and is dated when it arose (the event's receipt, the moment
// the emitter became silent), so it never undoes a later attempt. So a crash
// between storing and queueing (a redelivered batch queues its stored rows
// again) loses nothing, and a finding already sent is not sent again.
import type { BatchSink } from '../processor/runner.js';
import type { ReportKey } from '../reports/signing.js';
import { writeDeliveries, type DeliveryRow } from '../store/webhooks.js';
import type { FallingSilent } from '../store/state/sequences.js';
import type { Storage, Tables } from '../store/client.js';
import { toClickHouseTime } from '../lib/time.js';
import { FINDING_TYP, findingsFor, silenceFindings, type Finding } from './findings.js';
import type { Subscription } from './subscriptions.js';

export interface WebhookDeps {
  storage: Storage;
  tables: Tables;
  key: ReportKey;
  subscriptions: readonly Subscription[];
}

async function queue(deps: WebhookDeps, findings: { subscription: Subscription; finding: Finding }[], arose: (f: Finding) => string): Promise<void> {
  const rows: DeliveryRow[] = [];
  for (const { subscription, finding } of findings) {
    const at = arose(finding);
    rows.push({
      delivery_id: finding.delivery_id,
      subscription_id: subscription.id,
      tenant: finding.tenant,
      kind: finding.kind,
      event_id: finding.event?.id ?? '',
      url: subscription.url,
      payload: await deps.key.signAs(FINDING_TYP, finding),
      status: 'pending',
      attempts: 0,
      last_status: 0,
      last_error: '',
      created_at: at,
      next_attempt_at: at,
      updated_at: at,
    });
  }
  await writeDeliveries(deps.storage, deps.tables, rows);
}

export function findingWebhookSink(deps: WebhookDeps): BatchSink {
  return {
    name: 'finding-webhooks',
    async write(batch) {
      const rows = [...batch.rows, ...batch.redeliveredRows];
      const receivedAt = new Map(rows.map((r) => [r.id, r.ingested_at]));
      const findings = rows.flatMap((row) => findingsFor(row, deps.subscriptions));
      await queue(deps, findings, (f) => receivedAt.get(f.event!.id)!);
    },
  };
}

export function queueSilence(deps: WebhookDeps, emitters: readonly FallingSilent[], silentAfterMs: number): Promise<void> {
  const findings = silenceFindings(emitters, deps.subscriptions, silentAfterMs);
  return queue(deps, findings, (f) => toClickHouseTime(Date.parse(f.emitter!.last_seen) + silentAfterMs));
}
