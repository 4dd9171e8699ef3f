// Kafka mode: every item goes to the events topic, keyed by the emitter it
// claims so each emitter's events stay in order on one partition. Items that
// failed the structural checks go too, marked with ingest's reason, so the
// processor quarantines them with everything else; the caller still hears
// they were refused.
import { CompressionTypes, Partitioners, type Kafka, type Producer } from 'kafkajs';
import { ActorlogError } from '../lib/errors.js';
import { ADDRESS_HEADER, CALLER_HEADER, FAST_FAIL_RETRY, REJECTION_DETAIL_HEADER, REJECTION_HEADER, type KafkaConfig } from '../lib/kafka.js';
import { structuralOutcome, type IngestItem, type IngestSink, type ItemOutcome } from './sink.js';

export async function createKafkaSink(kafka: Kafka, cfg: KafkaConfig): Promise<IngestSink> {
  const producer: Producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    // One request in flight keeps each emitter's order through retries.
    maxInFlightRequests: 1,
    // Fail a request in seconds rather than hold the caller: the SDK retries,
    // and a duplicate from a retried send collapses in storage.
    retry: FAST_FAIL_RETRY,
  });
  await producer.connect();
  const compression = cfg.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  let connected = true;
  producer.on(producer.events.DISCONNECT, () => (connected = false));
  producer.on(producer.events.CONNECT, () => (connected = true));

  return {
    async accept(items: IngestItem[]): Promise<ItemOutcome[]> {
      const outcomes = items.map(structuralOutcome);
      try {
        await producer.send({
          topic: cfg.topic,
          acks: -1,
          compression,
          messages: items.map((item, i) => {
            const outcome = outcomes[i]!;
            return {
              key: item.inspection.claimed.source ?? null,
              value: item.raw,
              timestamp: String(item.receivedAt),
              headers: {
                [ADDRESS_HEADER]: item.origin.address,
                ...(item.origin.emitter ? { [CALLER_HEADER]: item.origin.emitter } : {}),
                ...(outcome.ok ? {} : { [REJECTION_HEADER]: outcome.reason, [REJECTION_DETAIL_HEADER]: outcome.detail }),
              },
            };
          }),
        });
      } catch (err) {
        throw new ActorlogError('BUS_UNAVAILABLE', (err as Error).message, { cause: err });
      }
      return outcomes;
    },
    async ready() {
      if (!connected) throw new Error('producer is not connected to Kafka');
    },
    async close() {
      await producer.disconnect();
    },
  };
}
