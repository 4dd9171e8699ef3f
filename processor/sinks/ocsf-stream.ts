// A BatchSink: the SIEM stream. Every stored event as one OCSF JSON message
// (schemas/ocsf/map.ts) on the OCSF topic, keyed by event id so a consumer
// can deduplicate. At least once: it runs after the batch is stored and
// before the driver commits its offsets, and a redelivered batch hands its
// already-stored rows too, so a processor that dies between storing and
// producing produces them when the batch comes back; a refused record is
// never stored, so never produced. The topic may live on another cluster
// (KAFKA_OCSF_BROKERS); while it cannot take the batch, the batch is held.
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { ActorlogError } from '../../lib/errors.js';
import { createMissingTopics } from '../../lib/kafka.js';
import { toOcsf } from '../../schemas/ocsf/map.js';
import type { BatchSink } from '../runner.js';

export const OCSF_CLASS_HEADER = 'ocsf-class-uid';

// A broker refuses a record batch over its message.max.bytes (1 MB by
// default) for good, and a processor batch after a backlog is bigger than
// that as OCSF JSON: send it in requests well under the limit.
const CHUNK_BYTES = 512 * 1024;
function* chunks<M extends { key: string; value: string }>(messages: M[]): Generator<M[]> {
  let chunk: M[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = Buffer.byteLength(m.value) + Buffer.byteLength(m.key) + 64;
    if (chunk.length > 0 && bytes + size > CHUNK_BYTES) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(m);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

export interface OcsfStream extends BatchSink {
  close(): Promise<void>;
}

export function ocsfStreamSink(kafka: Kafka, topic: string, partitions: number): OcsfStream {
  let ready: Promise<Producer> | undefined;
  // Connected on first use, so a SIEM cluster that is down holds batches
  // instead of stopping the processor from starting.
  const connect = async () => {
    await createMissingTopics(kafka, [topic], partitions);
    const producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    return producer;
  };
  return {
    name: 'ocsf-stream',
    async write(batch) {
      const rows = [...batch.rows, ...batch.redeliveredRows];
      if (rows.length === 0) return;
      const messages = rows.map((row) => {
        const event = toOcsf(row);
        return { key: row.id, value: JSON.stringify(event), headers: { [OCSF_CLASS_HEADER]: String(event.class_uid) } };
      });
      try {
        ready ??= connect();
        const producer = await ready;
        for (const chunk of chunks(messages)) await producer.send({ topic, acks: -1, messages: chunk });
      } catch (err) {
        // Reconnect next time: the cluster may have moved or come back.
        const failed = ready;
        ready = undefined;
        void failed?.then((p) => p.disconnect()).catch(() => undefined);
        throw new ActorlogError('BUS_UNAVAILABLE', `OCSF stream: ${(err as Error).message}`, { cause: err });
      }
    },
    async close() {
      const pending = ready;
      ready = undefined;
      if (pending) await pending.then((p) => p.disconnect()).catch(() => undefined);
    },
  };
}
