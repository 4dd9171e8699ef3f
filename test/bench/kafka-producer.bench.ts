// Ingest's Kafka producer settings, chosen by measurement: signed events
// (~1.5 kB, keyed by emitter as ingest keys them) sent with acks=all and one
// request in flight, as ingest sends, for each
//   compression        none or gzip (the codecs kafkajs carries; Snappy,
//                      LZ4 and ZSTD need native codec packages);
//   messages per send  what one ingest request hands the producer (the SDK
//                      sends 100 a request, ingest takes up to 1,000);
//   concurrent sends   requests in flight on the one producer at once (the
//                      producer serialises them: maxInFlightRequests 1);
// acknowledged events/s and the CPU per event of this process plus the
// broker's (when this bench started it), repeated with the settings
// interleaved (min / median / max), and the ratio of each to the default.
// Usage: node dist/test/bench/kafka-producer.bench.js [EVENTS] [REPEATS]   (default 20000, 3)
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CompressionTypes, Partitioners, type Producer } from 'kafkajs';
import { createKafka, createMissingTopics, FAST_FAIL_RETRY } from '../../lib/kafka.js';
import { loadConfig } from '../../lib/config.js';
import { fullEvent, registeredEmitter, tempDir } from '../helpers/fixtures.js';
import { cpuSecondsOf, line, ratios } from './stats.js';
import { startKafka } from './kafka-broker.js';

const total = Number(process.argv[2] ?? 20_000);
const repeats = Number(process.argv[3] ?? 3);
const broker = startKafka();
const topic = `actorlog.bench.producer.${process.pid}`;
const defaults = loadConfig({ DATA_DIR: tempDir('actorlog-bench-producer-'), KAFKA_BROKERS: broker.brokers, KAFKA_TOPIC: topic });
const cfg = defaults.kafka!;
const kafka = createKafka(cfg, 'bench', 'warn', FAST_FAIL_RETRY);

interface Setting {
  label: string;
  compression: CompressionTypes;
  perSend: number;
  concurrent: number;
}
const byName = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP } as const;
const settings: Setting[] = [];
for (const compression of ['none', 'gzip'] as const) {
  for (const perSend of [100, 500, 1000]) settings.push({ label: `${compression}, ${perSend} a send, 1 at a time`, compression: byName[compression], perSend, concurrent: 1 });
  settings.push({ label: `${compression}, 100 a send, 4 at a time`, compression: byName[compression], perSend: 100, concurrent: 4 });
}
const current = settings.findIndex((s) => s.compression === byName[cfg.compression] && s.perSend === 100 && s.concurrent === 4);

try {
  await createMissingTopics(kafka, [topic], cfg.partitions);
  const registry = path.join(tempDir('actorlog-bench-producer-keys-'), 'emitters.json');
  const emitters = await Promise.all(Array.from({ length: 8 }, (_, i) => registeredEmitter(registry, `gw:bench-${i}`)));
  const messages: { key: string; value: Buffer }[] = [];
  for (let i = 0; i < total; i++) {
    const emitter = emitters[i % emitters.length]!;
    messages.push({ key: emitter.source, value: Buffer.from(await emitter.sign(fullEvent(emitter.source))) });
  }
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner, maxInFlightRequests: 1, retry: FAST_FAIL_RETRY });
  await producer.connect();
  const rates = settings.map(() => [] as number[]);
  const cpu = settings.map(() => [] as number[]);
  const cpuNow = () => {
    const own = process.cpuUsage();
    return (own.user + own.system) / 1e6 + (broker.pid ? cpuSecondsOf(broker.pid) : 0);
  };
  for (let r = 0; r < repeats; r++) {
    for (const [i, s] of settings.entries()) {
      const sends: (typeof messages)[] = [];
      for (let at = 0; at < total; at += s.perSend) sends.push(messages.slice(at, at + s.perSend));
      const cpu0 = cpuNow();
      const start = performance.now();
      let next = 0;
      await Promise.all(Array.from({ length: s.concurrent }, async () => {
        while (next < sends.length) {
          const batch = sends[next++]!;
          await producer.send({ topic, acks: -1, compression: s.compression, messages: batch.map((m) => ({ ...m, timestamp: String(Date.now()) })) });
        }
      }));
      rates[i]!.push((total / (performance.now() - start)) * 1000);
      cpu[i]!.push(((cpuNow() - cpu0) / total) * 1e6);
    }
  }
  await producer.disconnect();
  const who = broker.pid ? 'this process + broker' : 'this process';
  console.log(`${total} signed events (~${Math.round(messages.reduce((n, m) => n + m.value.length, 0) / total)} B), ${cfg.partitions} partitions, acks=all, 1 request in flight, ${repeats} repeats; default now: ${cfg.compression}`);
  for (const [i, s] of settings.entries()) {
    console.log(line(`${s.label}: acknowledged`, rates[i]!, 'events/s'));
    console.log(line(`${s.label}: CPU per event (${who})`, cpu[i]!, 'us', 1));
    if (current >= 0 && i !== current) console.log(line(`${s.label}: ratio to the default (events/s)`, ratios(rates[i]!, rates[current]!), '', 2));
  }
} finally {
  broker.stop();
}
