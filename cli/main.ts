// The `actorlog` command.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../lib/config.js';
import { ActorlogError } from '../lib/errors.js';
import { createLogger, errorFields } from '../lib/logger.js';
import { keysCommand } from './keys.js';
import { reportCommand } from './report.js';
import { logCommand } from './log.js';
import { verifyCommand } from './verify.js';
import { witnessCommand } from './witness.js';
import { analystToken, openContext, startAll, startIngest, startProcessor, startQueryApi, type Running } from './services.js';
import { emitCommand } from './emit.js';
import { tablesOf } from '../store/client.js';
import { schemaStatements } from '../store/migrate.js';
import { ingestTokenCommand, signCommand } from './sign.js';
import { runDemo } from './demo.js';
import { mcpProxyCommand } from './mcp-proxy.js';
import { PROXY_USAGE } from '../mcp-proxy/options.js';

const USAGE = `actorlog <command> [options]

  start                      ingest, processor and query API in one process
                             (embedded ClickHouse and no Kafka unless configured)
  ingest | processor | query-api
                             run one part alone against Kafka and ClickHouse
  keys generate --emitter ID [--alg EdDSA|Ed25519|ES256] [--tenant T ...] [--out FILE]
                             print a new private JWK and register its public key
                             (--tenant: the only tenants the emitter may report for;
                             --out: write it to a new file, 0600, never overwritten)
  keys rotate --emitter ID [--alg EdDSA|Ed25519|ES256] [--out FILE]
                             new active key; the active ones retire (old events stay valid)
  keys revoke --emitter ID --kid KID [--at RFC3339]
                             refuse the key for events dated or received from then on
  keys list [--emitter ID]   every registered key with its state and times
  keys import --emitter ID [--alg EdDSA|Ed25519|ES256] [--tenant T ...] FILE|-
                             register an existing public JWK (a KMS or HSM key)
  keys jwks-url --emitter ID [--tenant T ...] URL
                             the emitter's keys are those its JWKS URL publishes
  emit --emitter ID --key FILE [--endpoint URL] [--state-dir DIR] [FILE|-]
                             sign JSON events (array, object or NDJSON) and send them
  sign --emitter ID --key FILE --seq N [--alg EdDSA|Ed25519|ES256] [FILE|-]
                             print one event as a compact JWS (to send with curl)
  ingest-token --emitter ID --key FILE [--alg EdDSA|Ed25519|ES256]
                             print a 5-minute token for ingest's Authorization header,
                             signed with the emitter key (for curl; the SDK makes its own)
  mcp-proxy [options] -- <server command> [args...]
  mcp-proxy [options] --listen HOST:PORT --upstream URL --resource URI --jwks URL|FILE
                             audit an MCP server you do not own, over stdio or
                             Streamable HTTP (\`actorlog mcp-proxy --help\`)
  schema [--cluster NAME]    print the ClickHouse DDL the migrations apply; for a
                             cluster (default CLICKHOUSE_CLUSTER): ON CLUSTER,
                             replicated local tables behind Distributed ones
  demo [--endpoint URL]      send realistic demo traffic to a running instance
  report run --id REPORT_ID [--out DIR]
                             run a report now: writes the file and its signed manifest
  report verify --file FILE --manifest FILE.jws [--jwks JWKS.json]
                             prove a report file and its manifest unaltered
  log export [--out FILE] [--size N]
                             every logged event with its inclusion proof, NDJSON
  log checkpoint | log key   publish a checkpoint now | print the log's public key
  verify --key KEY --checkpoint CP --export FILE [--records DIR]
                             offline: prove an export complete and unaltered,
                             rows removed by retention named under their record
  verify --key KEY --checkpoint NEWER --old OLDER --proof FILE
                             offline: prove the newer checkpoint extends the older
  verify --key KEY --checkpoint COSIGNED --witness WITNESS_KEY
                             offline: each named witness co-signed the checkpoint
  verify --event EVENT --emitter-key JWK
                             offline: check one signed event (alone or batch-signed)
  witness --log URL --log-key KEY --state DIR [--once]
                             co-sign the log's checkpoints (C2SP cosignature/v1),
                             each only if it extends the last one co-signed

\`actorlog <command> --help\` prints that command's usage.
Configuration comes from the environment; see the README.`;

// One command's entries of USAGE (an entry is a line indented two spaces and
// its deeper-indented continuation), so each command's help cannot drift from
// the overview.
function commandUsage(command: string): string | undefined {
  const entries = USAGE.split('\n\n')[1]!.split(/\n(?=  \S)/);
  const mine = entries.filter((entry) => {
    const synopsis = entry.trim().split(/ {2,}|\n/)[0]!;
    return synopsis.split(' | ').some((part) => part.split(' ')[0] === command);
  });
  return mine.length > 0 ? `usage:\n${mine.join('\n')}` : undefined;
}

// --help or -h anywhere before a `--` (after it come another program's arguments).
function asksHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

function defaultEndpoint(config: Config): string {
  return `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.ingest.port}`;
}

// Where the services listen: a table for a person at a terminal; otherwise
// one JSON log line (logged whatever LOG_LEVEL says: it is the answer of
// \`start\`), so piped output is JSON lines only.
function announce(config: Config, name: string, running: Running): void {
  const token = running.queryUrl && !config.query.jwt ? analystToken(config) : undefined;
  const where = {
    ingest: running.ingestUrl && `${running.ingestUrl}/v1/events`,
    processor: running.processorUrl && `${running.processorUrl}/metrics`,
    console: running.queryUrl && `${running.queryUrl}/`,
    query_api: running.queryUrl && `${running.queryUrl}/v1/events`,
    query_api_reference: running.queryUrl && `${running.queryUrl}/docs`,
    analyst_auth: running.queryUrl && (config.query.jwt ? `JWTs from ${config.query.jwt.issuer}` : token!.file ? `token in ${token!.file}` : 'token from ACTORLOG_ANALYST_TOKEN'),
    storage: config.clickhouse.url ?? `embedded (${config.clickhouse.embeddedPath})`,
    bus: config.kafka ? `kafka ${config.kafka.brokers.join(',')}` : 'none (embedded mode)',
  };
  if (!process.stdout.isTTY) {
    createLogger(name).info('listening', Object.fromEntries(Object.entries(where).filter(([, v]) => v)));
    return;
  }
  const rows: [string, string | undefined][] = [
    ['actorlog ingest', where.ingest],
    ['actorlog processor', where.processor],
    ['actorlog console', where.console],
    ['actorlog query API', where.query_api && `${where.query_api}  (reference: ${where.query_api_reference})`],
    ['analyst auth', where.analyst_auth],
    ['storage', where.storage],
    ['bus', where.bus],
  ];
  for (const [label, value] of rows) if (value) process.stdout.write(`${label.padEnd(20)}${value}\n`);
}

async function serve(config: Config, name: string, start: typeof startAll): Promise<void> {
  const ctx = await openContext(config, name);
  const running: Running = await start(ctx);
  announce(config, name, running);
  // Everything is closed and on disk, or the stop timed out. End by the signal
  // itself, as a program stopped by a signal should: that also skips the
  // embedded engine's exit-time destructors, which can crash (SIGSEGV inside
  // libchdb) when they run shortly after writes.
  const end = (signal: NodeJS.Signals) => {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  };
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const began = Date.now();
    setTimeout(() => {
      ctx.logger.error('stop timed out', { signal, ms: Date.now() - began });
      end(signal);
    }, config.stopTimeoutMs).unref();
    running.close().then(
      () => {
        ctx.logger.info('stopped', { signal, ms: Date.now() - began });
        end(signal);
      },
      (err: unknown) => {
        ctx.logger.error('stop failed', errorFields(err));
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // Everything actorlog writes (engine files, keys, tokens, reports, outboxes)
  // is for its own user only: folders 0700, files 0600.
  process.umask(0o077);
  if (command !== undefined && asksHelp(rest)) {
    const usage = command === 'mcp-proxy' ? PROXY_USAGE : commandUsage(command);
    if (usage) {
      process.stdout.write(`${usage}\n`);
      return 0;
    }
  }
  const config = loadConfig();
  switch (command) {
    case 'start':
      await serve(config, 'actorlog', startAll);
      return -1;
    case 'ingest':
      await serve(config, 'ingest', startIngest);
      return -1;
    case 'processor':
      await serve(config, 'processor', (ctx) => startProcessor(ctx, { http: true }));
      return -1;
    case 'query-api':
      await serve(config, 'query-api', startQueryApi);
      return -1;
    case 'keys':
      return keysCommand(config, rest);
    case 'report':
      return reportCommand(config, rest);
    case 'log':
      return logCommand(config, rest);
    case 'verify':
      return verifyCommand(rest);
    case 'witness':
      return witnessCommand(rest);
    case 'emit': {
      const { positionals, values } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { emitter: { type: 'string' }, key: { type: 'string' }, endpoint: { type: 'string' }, 'state-dir': { type: 'string' } },
      });
      if (!values.emitter || !values.key) throw new ActorlogError('BAD_REQUEST', 'usage: actorlog emit --emitter ID --key FILE [FILE|-]');
      return emitCommand({
        endpoint: values.endpoint ?? defaultEndpoint(config),
        source: values.emitter,
        keyFile: values.key,
        stateDir: values['state-dir'] ?? path.join(config.dataDir, 'emitter-state'),
        input: positionals[0] ?? '-',
      });
    }
    case 'sign': {
      const { positionals, values } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { emitter: { type: 'string' }, key: { type: 'string' }, seq: { type: 'string' }, alg: { type: 'string' } },
      });
      const seq = Number(values.seq);
      if (!values.emitter || !values.key || !Number.isSafeInteger(seq) || seq < 0) {
        throw new ActorlogError('BAD_REQUEST', 'usage: actorlog sign --emitter ID --key FILE --seq N [--alg EdDSA|Ed25519|ES256] [FILE|-]');
      }
      return signCommand({ source: values.emitter, keyFile: values.key, seq, alg: values.alg as never, input: positionals[0] ?? '-' });
    }
    case 'ingest-token': {
      const { values } = parseArgs({ args: rest, options: { emitter: { type: 'string' }, key: { type: 'string' }, alg: { type: 'string' } } });
      if (!values.emitter || !values.key) throw new ActorlogError('BAD_REQUEST', 'usage: actorlog ingest-token --emitter ID --key FILE [--alg EdDSA|Ed25519|ES256]');
      return ingestTokenCommand({ source: values.emitter, keyFile: values.key, alg: values.alg as never });
    }
    case 'mcp-proxy':
      return mcpProxyCommand(rest, { endpoint: defaultEndpoint(config), dataDir: config.dataDir });
    case 'schema': {
      const { values } = parseArgs({ args: rest, options: { cluster: { type: 'string' } } });
      const cluster = values.cluster ?? config.clickhouse.cluster;
      process.stdout.write(`${schemaStatements(tablesOf(config.clickhouse.database), cluster).map((s) => `${s.trim()};\n`).join('\n')}`);
      return 0;
    }
    case 'demo': {
      const { values } = parseArgs({ args: rest, options: { endpoint: { type: 'string' } } });
      const endpoint = values.endpoint ?? defaultEndpoint(config);
      const result = await runDemo({ endpoint, dataDir: config.dataDir, registryFile: config.keysFile });
      process.stdout.write(`demo: ${result.sent} events accepted, ${result.rejected} refused, sent to ${endpoint}\n`);
      return result.rejected > 0 ? 1 : 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    default:
      process.stderr.write(`unknown command ${command}\n\n${USAGE}\n`);
      return 2;
  }
}
