// The Kafka broker a bench runs against: the one KAFKA_BROKERS names, or a
// local single-node broker started with scripts/kafka.sh for this bench and
// stopped after it (its pid is known then, so its CPU can be counted).
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/fixtures.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const script = path.join(root, 'scripts/kafka.sh');

export interface Broker {
  brokers: string;
  // Only for a broker this bench started.
  pid?: number;
  stop(): void;
}

export function startKafka(): Broker {
  if (process.env.KAFKA_BROKERS) return { brokers: process.env.KAFKA_BROKERS, stop() {} };
  const dir = tempDir('actorlog-bench-kafka-');
  const started = spawnSync('bash', [script, 'start', dir], { encoding: 'utf8', timeout: 300_000 });
  if (started.status !== 0) throw new Error(`scripts/kafka.sh start failed: ${(started.stderr ?? '').trim().split('\n').slice(-3).join(' ')}`);
  return {
    brokers: started.stdout.trim(),
    pid: Number(fs.readFileSync(path.join(dir, 'pid'), 'utf8')),
    stop() {
      spawnSync('bash', [script, 'stop', dir], { timeout: 60_000 });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
