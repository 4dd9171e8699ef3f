// `actorlog mcp-proxy`: stdio mode runs until the server exits; HTTP mode
// until SIGINT/SIGTERM. In stdio mode stdout is the MCP channel: nothing else
// is ever written there.
import { parseProxyArgs } from '../mcp-proxy/options.js';
import { runStdio, startHttp } from '../mcp-proxy/run.js';

export async function mcpProxyCommand(argv: string[], defaults: { endpoint: string; dataDir: string }): Promise<number> {
  const options = parseProxyArgs(argv, defaults);
  if (options.command) return runStdio(options);
  const log = (line: string) => process.stderr.write(`actorlog mcp-proxy: ${line}\n`);
  const running = await startHttp(options, log);
  process.stdout.write(`actorlog mcp-proxy  ${running.url} -> ${options.upstream}${options.noAuth ? '  (no authentication)' : ''}\n`);
  log(`accepting Host ${running.allowedHosts.join(' ')}; Origin ${running.allowedOrigins.join(' ')} (or none)`);
  const stop = () => {
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return -1;
}
