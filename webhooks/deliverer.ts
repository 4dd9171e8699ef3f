// Sends queued findings: each due delivery POSTed as its JWS, retried with
// exponential backoff (capped) until the receiver answers 2xx or the attempts
// run out; every attempt recorded in the delivery log. Several instances may
// send the same delivery: receivers deduplicate on its delivery id.
import { every, type Periodic } from '../lib/periodic.js';
import { errorFields, type Logger } from '../lib/logger.js';
import { toClickHouseTime } from '../lib/time.js';
import type { Storage, Tables } from '../store/client.js';
import { dueDeliveries, writeDeliveries, type DeliveryRow } from '../store/webhooks.js';

export interface DelivererOptions {
  tickMs: number;
  timeoutMs: number;
  retryBaseMs: number;
  maxAttempts: number;
}

const MAX_DELAY_MS = 15 * 60_000;
const BATCH = 100;

export const retryDelay = (attempts: number, baseMs: number) => Math.min(MAX_DELAY_MS, baseMs * 2 ** Math.max(0, attempts - 1));

async function attempt(delivery: DeliveryRow, timeoutMs: number): Promise<{ status: number; error: string }> {
  try {
    const response = await fetch(delivery.url, {
      method: 'POST',
      headers: { 'content-type': 'application/jose', 'actorlog-delivery-id': delivery.delivery_id, 'actorlog-finding-kind': delivery.kind },
      body: delivery.payload,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    return { status: response.status, error: response.ok ? '' : `HTTP ${response.status}` };
  } catch (err) {
    // The cause names the socket error (ECONNREFUSED...); the URL is not logged, it may carry a secret.
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { status: 0, error: cause ?? (err as Error).name };
  }
}

export async function deliverDue(storage: Storage, tables: Tables, opts: DelivererOptions, now = Date.now()): Promise<DeliveryRow[]> {
  const due = await dueDeliveries(storage, tables, now, BATCH);
  const outcomes = await Promise.all(
    due.map(async (delivery): Promise<DeliveryRow> => {
      const { status, error } = await attempt(delivery, opts.timeoutMs);
      const attempts = delivery.attempts + 1;
      const done = status >= 200 && status < 300;
      const finished = Date.now();
      return {
        ...delivery,
        attempts,
        last_status: status,
        last_error: error,
        status: done ? 'delivered' : attempts >= opts.maxAttempts ? 'failed' : 'pending',
        next_attempt_at: toClickHouseTime(done ? finished : finished + retryDelay(attempts, opts.retryBaseMs)),
        updated_at: toClickHouseTime(finished),
      };
    }),
  );
  await writeDeliveries(storage, tables, outcomes);
  return outcomes;
}

export function startDeliverer(deps: { storage: Storage; tables: Tables; logger: Logger }, opts: DelivererOptions): Periodic {
  return every(
    opts.tickMs,
    async () => {
      for (const d of await deliverDue(deps.storage, deps.tables, opts)) {
        if (d.status === 'failed') deps.logger.error('webhook delivery failed for good', { delivery: d.delivery_id, subscription: d.subscription_id, attempts: d.attempts, error: d.last_error });
        else if (d.status === 'pending') deps.logger.warn('webhook delivery failed, will retry', { delivery: d.delivery_id, subscription: d.subscription_id, attempts: d.attempts, error: d.last_error });
      }
    },
    (err) => deps.logger.warn('webhook delivery round failed', errorFields(err)),
  );
}
