// Kafka driver of the pipeline: a consumer group over the events topic that,
// per batch, verifies and normalises, stores in ClickHouse, sends refused
// records to the dead-letter topic, and only then commits the offsets. A crash
// anywhere before the commit means the batch is delivered again; the events
// table collapses the duplicates (ReplacingMergeTree, read with FINAL).
import { Partitioners, type Consumer, type Kafka, type KafkaMessage, type Producer } from 'kafkajs';
import type { KafkaConfig } from '../lib/kafka.js';
import { DLQ_REASON_HEADER, REJECTION_DETAIL_HEADER, REJECTION_HEADER } from '../lib/kafka.js';
import { QUARANTINE_REASONS, type QuarantineReason } from '../lib/errors.js';
import { countReasons, type Metrics } from '../lib/metrics.js';
import { errorFields, type Logger } from '../lib/logger.js';
import type { RawRecord } from './pipeline.js';
import { prepareBatch, storeBatch, type BatchDeps } from './batch.js';
import { retryUntilDone } from './retry.js';

export interface ConsumerDeps extends BatchDeps {
  kafka: Kafka;
  kafkaConfig: KafkaConfig;
  metrics: Metrics;
  logger: Logger;
}

export interface RunningConsumer {
  // Settles once the consumer has joined its group and been given partitions.
  joined: Promise<void>;
  stop(): Promise<void>;
}

function header(message: KafkaMessage, name: string): string | undefined {
  const value = message.headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

export function toRawRecord(topic: string, partition: number, message: KafkaMessage): RawRecord {
  const record: RawRecord = {
    value: message.value ?? Buffer.alloc(0),
    receivedAt: Number(message.timestamp),
    kafka: { topic, partition, offset: message.offset },
  };
  const reason = header(message, REJECTION_HEADER);
  if (reason !== undefined) {
    record.rejection = {
      reason: reason in QUARANTINE_REASONS ? (reason as QuarantineReason) : 'jws_malformed',
      detail: header(message, REJECTION_DETAIL_HEADER) ?? '',
    };
  }
  return record;
}

export async function startConsumer(deps: ConsumerDeps): Promise<RunningConsumer> {
  const { kafka, kafkaConfig, storage, tables, metrics, logger } = deps;
  const consumer: Consumer = kafka.consumer({
    groupId: kafkaConfig.groupId,
    sessionTimeout: kafkaConfig.sessionTimeoutMs,
    // A third of the session at most, so one lost heartbeat does not end it.
    heartbeatInterval: Math.min(3_000, Math.floor(kafkaConfig.sessionTimeoutMs / 3)),
    allowAutoTopicCreation: false,
  });
  const producer: Producer = kafka.producer({
    idempotent: true,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await Promise.all([consumer.connect(), producer.connect()]);
  await consumer.subscribe({ topic: kafkaConfig.topic, fromBeginning: true });
  // kafkajs restarts the consumer after a retriable crash; one it will not
  // restart leaves the processor idle, which an operator must hear about.
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) logger.error('processor stopped consuming', { ...errorFields(payload.error), group: payload.groupId });
  });

  // Joining waits for the group to rebalance: after a crash, until the dead
  // member's session expires. The caller decides whether to wait for it.
  const joined = consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      if (batch.messages.length === 0) return;
      const records = batch.messages.map((m) => toRawRecord(batch.topic, batch.partition, m));

      // Storage or broker trouble is passing: hold the batch, keep the group
      // membership alive, and try again. Nothing is committed meanwhile.
      const keepGoing = async () => {
        if (!isRunning() || isStale()) return false;
        await heartbeat();
        return true;
      };
      const onStorageError = (err: unknown, attempt: number) => {
        metrics.error('processor', 'STORAGE_UNAVAILABLE');
        logger.warn('storage unavailable, retrying batch', { ...errorFields(err), attempt, partition: batch.partition });
      };
      const result = await retryUntilDone(() => prepareBatch(records, deps), { keepGoing, onError: onStorageError });
      await retryUntilDone(() => storeBatch(storage, tables, result, deps.log), { keepGoing, onError: onStorageError });
      result.commit();
      if (result.quarantined.length > 0) {
        await retryUntilDone(
          () =>
            producer.send({
              topic: kafkaConfig.dlqTopic,
              acks: -1,
              messages: result.quarantined.map((q) => ({
                key: q.claimed_source || null,
                value: Buffer.from(q.raw_base64, 'base64'),
                headers: { [DLQ_REASON_HEADER]: q.reason, 'actorlog-origin': q.quarantine_id },
              })),
            }),
          {
            keepGoing,
            onError: (err) => {
              metrics.error('processor', 'BUS_UNAVAILABLE');
              logger.warn('dead-letter produce failed, retrying', errorFields(err));
            },
          },
        );
      }

      const last = batch.lastOffset();
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
      resolveOffset(last);
      metrics.batch('processor', {
        received: records.length,
        sent: result.rows.length,
        quarantined: countReasons(result.quarantined),
      });
    },
  });

  return {
    joined,
    async stop() {
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}
