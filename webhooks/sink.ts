// A BatchSink: each stored event's findings, signed, queued in the delivery
// log for the subscribers that want them. A redelivered batch queues its
// already-stored rows again under the same delivery ids, dated at the
// events' receipt, so a crash between storing and queueing loses nothing and
// a finding already sent is not sent again.
import type { BatchSink } from '../processor/runner.js';
import type { ReportKey } from '../reports/signing.js';
import { writeDeliveries, type DeliveryRow } from '../store/webhooks.js';
import type { Storage, Tables } from '../store/client.js';
import { FINDING_TYP, findingsFor } from './findings.js';
import type { Subscription } from './subscriptions.js';

export function findingWebhookSink(deps: { storage: Storage; tables: Tables; key: ReportKey; subscriptions: readonly Subscription[] }): BatchSink {
  return {
    name: 'finding-webhooks',
    async write(batch) {
      const queued: DeliveryRow[] = [];
      for (const row of [...batch.rows, ...batch.redeliveredRows]) {
        for (const { subscription, finding } of findingsFor(row, deps.subscriptions)) {
          queued.push({
            delivery_id: finding.delivery_id,
            subscription_id: subscription.id,
            tenant: finding.tenant,
            kind: finding.kind,
            event_id: row.id,
            url: subscription.url,
            payload: await deps.key.signAs(FINDING_TYP, finding),
            status: 'pending',
            attempts: 0,
            last_status: 0,
            last_error: '',
            created_at: row.ingested_at,
            next_attempt_at: row.ingested_at,
            updated_at: row.ingested_at,
          });
        }
      }
      await writeDeliveries(deps.storage, deps.tables, queued);
    },
  };
}
