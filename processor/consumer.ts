// Kafka driver of the batch runner: a consumer group over the events topic
// that runs each batch through runBatch (verify, normalise, store, the sinks,
// the dead-letter topic first among them) and only then commits the offsets.
// A crash anywhere before the commit means the batch is delivered again; it is
// recognised as a redelivery and not stored twice.
import { Partitioners, type Consumer, type Kafka, type KafkaMessage, type Producer } from 'kafkajs';
import type { KafkaConfig } from '../lib/kafka.js';
import { ADDRESS_HEADER, CALLER_HEADER, REJECTION_DETAIL_HEADER, REJECTION_HEADER } from '../lib/kafka.js';
import { ActorlogError, QUARANTINE_REASONS, type QuarantineReason } from '../lib/errors.js';
import { errorFields } from '../lib/logger.js';
import type { RawRecord } from './pipeline.js';
import { runBatch, type RunnerDeps } from './runner.js';
import { deadLetterSink } from './sinks/dead-letter.js';
import { forgetProcessorState } from './batch.js';

export interface ConsumerDeps extends RunnerDeps {
  kafka: Kafka;
  kafkaConfig: KafkaConfig;
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
    origin: { emitter: header(message, CALLER_HEADER), address: header(message, ADDRESS_HEADER) },
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

// kafkajs wraps what eachBatch threw; the first catalogue error (or the
// innermost cause) says whether it was passing. Broker errors are.
function restartable(err: unknown): boolean {
  let e = err as (Error & { cause?: unknown }) | undefined;
  while (e && !(e instanceof ActorlogError) && e.cause instanceof Error) e = e.cause as Error & { cause?: unknown };
  return e instanceof ActorlogError ? e.retriable : e?.name?.startsWith('KafkaJS') === true;
}

// kafkajs restarts a crashed consumer only when the innermost `cause` of the
// error says `retriable: true`, which a storage error (or a broker error
// kafkajs marks final, like a lost group membership) does not. A passing
// failure, already logged with its cause by the runner, is thrown as a
// catalogue error of its own so the consumer restarts and rejoins.
function passingAlone(err: unknown): unknown {
  if (!(err instanceof ActorlogError) || !err.retriable || err.cause === undefined) return err;
  const passing = new ActorlogError(err.code);
  passing.message = err.message;
  return passing;
}

export async function startConsumer(deps: ConsumerDeps): Promise<RunningConsumer> {
  const { kafka, kafkaConfig, logger } = deps;
  const consumer: Consumer = kafka.consumer({
    groupId: kafkaConfig.groupId,
    sessionTimeout: kafkaConfig.sessionTimeoutMs,
    // A third of the session at most, so one lost heartbeat does not end it.
    heartbeatInterval: Math.min(3_000, Math.floor(kafkaConfig.sessionTimeoutMs / 3)),
    allowAutoTopicCreation: false,
    // A bug (an error that is not retriable) stops consuming, loudly, rather
    // than replaying the same batch for ever; passing failures restart.
    retry: { restartOnFailure: async (err) => restartable(err) },
  });
  const producer: Producer = kafka.producer({
    idempotent: true,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await Promise.all([consumer.connect(), producer.connect()]);
  const runnerDeps: RunnerDeps = { ...deps, sinks: [deadLetterSink(producer, kafkaConfig.dlqTopic), ...deps.sinks] };
  await consumer.subscribe({ topic: kafkaConfig.topic, fromBeginning: true });
  // kafkajs restarts the consumer after a retriable crash; one it will not
  // restart leaves the processor idle, which an operator must hear about.
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) logger.error('processor stopped consuming', { ...errorFields(payload.error), group: payload.groupId });
  });

  // Partitions may have changed hands: what another member stored for an
  // emitter meanwhile is in storage, not in this instance's cache.
  consumer.on(consumer.events.GROUP_JOIN, () => forgetProcessorState(deps.state));

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
      // A failed heartbeat means this member may have lost the partition
      // (its session expired, the group rebalanced): stop holding the batch,
      // uncommitted, and let the consumer restart and rejoin.
      const keepGoing = async () => {
        if (!isRunning() || isStale()) return false;
        return heartbeat().then(
          () => true,
          (err: unknown) => {
            logger.warn('heartbeat failed while holding a batch; giving it back', { ...errorFields(err), topic: batch.topic, partition: batch.partition });
            return false;
          },
        );
      };
      const last = batch.lastOffset();
      await runBatch(records, runnerDeps, {
        keepGoing,
        where: { topic: batch.topic, partition: batch.partition },
        commit: async () => {
          await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
          resolveOffset(last);
        },
      }).catch((err: unknown) => {
        throw passingAlone(err);
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
