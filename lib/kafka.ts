// The Kafka client, its topics, and the headers actorlog puts on records.
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Admin, type ITopicConfig, type logCreator, type RetryOptions } from 'kafkajs';
import type { Config } from './config.js';
import { createLogger, type LogLevel } from './logger.js';

export type KafkaConfig = NonNullable<Config['kafka']>;

const DEFAULT_RETRY: RetryOptions = { initialRetryTime: 200, retries: 5, maxRetryTime: 5_000 };
export const FAST_FAIL_RETRY: RetryOptions = { initialRetryTime: 100, retries: 2, maxRetryTime: 1_000 };

// kafkajs logs through actorlog's logger, so every line has one shape.
function kafkaLogs(level: LogLevel): logCreator {
  const logger = createLogger('kafkajs', level);
  return () => ({ level: lvl, log }) => {
    const { message, ...fields } = log;
    if (lvl === logLevel.ERROR || lvl === logLevel.NOTHING) logger.error(message, fields);
    else if (lvl === logLevel.WARN) logger.warn(message, fields);
    else logger.debug(message, fields);
  };
}

// `retry` bounds how long a call may keep trying: the processor can wait out a
// broker restart, ingest must answer its caller quickly (the SDK retries).
export function createKafka(cfg: KafkaConfig, role: string, level: LogLevel = 'warn', retry: RetryOptions = DEFAULT_RETRY): Kafka {
  return new Kafka({
    clientId: `${cfg.clientId}-${role}`,
    brokers: cfg.brokers,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogs(level),
    retry,
  });
}

// Creates the events and dead-letter topics if they are missing. Replication
// follows the broker's default so one definition serves a one-node test
// broker and a production cluster.
export async function ensureTopics(kafka: Kafka, cfg: KafkaConfig): Promise<void> {
  await createMissingTopics(kafka, [cfg.topic, cfg.dlqTopic], cfg.partitions);
}

export async function createMissingTopics(kafka: Kafka, names: string[], partitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const topics: ITopicConfig[] = names.filter((topic) => !existing.has(topic)).map((topic) => ({ topic, numPartitions: partitions }));
    if (topics.length > 0) await admin.createTopics({ topics, waitForLeaders: false });
    await leadersElected(admin, names);
  } finally {
    await admin.disconnect();
  }
}

// On a cluster a new topic reaches the other brokers' metadata a moment after
// it is created, and kafkajs's own wait gives up on the "unknown topic" a
// broker answers meanwhile: wait (bounded) until every partition has a leader.
async function leadersElected(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics });
      if (found.length === topics.length && found.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (err) {
      const type = (err as { type?: string }).type;
      if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE') throw err;
    }
    if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')} have no leader for every partition after ${timeoutMs} ms`);
    await sleep(100);
  }
}

// Ingest forwards a record it refused with these headers, so the processor
// quarantines it with ingest's reason and its Kafka coordinates.
export const REJECTION_HEADER = 'actorlog-rejection';
export const REJECTION_DETAIL_HEADER = 'actorlog-rejection-detail';
// Who sent a record, as ingest saw them: the processor caps quarantine by them.
export const CALLER_HEADER = 'actorlog-caller';
export const ADDRESS_HEADER = 'actorlog-address';
// Dead-letter records carry why they were refused.
export const DLQ_REASON_HEADER = 'actorlog-reason';
