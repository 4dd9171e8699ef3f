// The query API as the benches build it: the real routes over a bench's
// storage, one static token ('t'), no rate limit worth the name, silent logs.
// Only how many exports may run at once differs between benches.
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Metrics } from '../../lib/metrics.js';
import { ConcurrencyGate } from '../../lib/concurrency.js';
import { buildQueryApi } from '../../query-api/server.js';
import { staticAuthenticator } from '../../query-api/auth.js';
import type { Storage, Tables } from '../../store/client.js';

export const BENCH_TOKEN = 't';

export function benchQueryApi(storage: Storage, tables: Tables, dir: string, exports = 1_000): FastifyInstance {
  return buildQueryApi({
    storage,
    tables,
    metrics: new Metrics(),
    authenticate: staticAuthenticator(BENCH_TOKEN),
    keysFile: path.join(dir, 'none.json'),
    rateLimit: 1_000_000,
    logLevel: 'silent',
    exportGate: new ConcurrencyGate({ perTenant: exports, total: exports }),
  });
}
