// The processor group's lag per partition, for /metrics: the log-end offset
// minus the group's committed offset, read with the admin client on a timer
// (PROCESSOR_LAG_INTERVAL_MS), never per message. Every member of a group
// reports the whole group's lag.
import type { Admin, Kafka } from 'kafkajs';
import { errorFields, type Logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';
import { every } from '../lib/periodic.js';

export interface PartitionLag {
  partition: number;
  lag: number;
}

export async function readConsumerLag(admin: Admin, groupId: string, topic: string): Promise<PartitionLag[]> {
  const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const offsets = new Map((committed.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  return ends
    .map(({ partition, high, low }) => {
      // -1: nothing committed yet; the group starts from the beginning of what is retained.
      const at = offsets.get(partition) ?? -1n;
      const from = at >= 0n ? at : BigInt(low);
      const lag = BigInt(high) - from;
      return { partition, lag: Number(lag > 0n ? lag : 0n) };
    })
    .sort((a, b) => a.partition - b.partition);
}

export interface LagWatch {
  stop(): Promise<void>;
}

export function watchConsumerLag(kafka: Kafka, opts: { groupId: string; topic: string; intervalMs: number; metrics: Metrics; logger: Logger }): LagWatch {
  const admin = kafka.admin();
  let connected: Promise<void> | undefined;
  let warned = false;
  const refresh = async () => {
    connected ??= admin.connect().catch((err: unknown) => {
      connected = undefined;
      throw err;
    });
    await connected;
    const lags = await readConsumerLag(admin, opts.groupId, opts.topic);
    // Only the partitions the topic has now.
    opts.metrics.clear('actorlog_consumer_lag_messages');
    for (const { partition, lag } of lags) opts.metrics.set('actorlog_consumer_lag_messages', { group: opts.groupId, topic: opts.topic, partition: String(partition) }, lag);
    opts.metrics.set('actorlog_consumer_lag_refreshed_seconds', { group: opts.groupId, topic: opts.topic }, Math.floor(Date.now() / 1000));
    warned = false;
  };
  const timer = every(opts.intervalMs, refresh, (err) => {
    // Once per outage: the admin client retries on the next tick anyway.
    if (!warned) opts.logger.warn('consumer lag not read', { ...errorFields(err), topic: opts.topic, group: opts.groupId });
    warned = true;
  });
  return {
    async stop() {
      await timer.stop();
      if (connected) await connected.then(() => admin.disconnect(), () => undefined);
    },
  };
}
