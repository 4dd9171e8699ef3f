// `actorlog mcp-proxy -- <server command>`: speaks MCP on its own stdin/stdout
// to the client and spawns the server, relaying every byte both ways while the
// observer records the audited requests and their answers. The server's
// stderr is the proxy's stderr.
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { McpObserver } from '@actorlog/sdk/mcp';
import { LineTap, MAX_OBSERVED_LINE, messagesOf, type Gate } from './lines.js';
import type { ToolPolicy } from './tool-policy.js';

export interface StdioProxyOptions {
  command: string;
  args: string[];
  observer: McpObserver;
  // One stdio connection is one session; its id is stable for the proxy's life.
  sessionId: string;
  // Tool calls it denies are answered here and never reach the server.
  policy?: ToolPolicy;
  input?: Readable;
  output?: Writable;
  env?: NodeJS.ProcessEnv;
}

// Resolves with the server's exit code (or 1 when it died by a signal).
export function runStdioProxy(options: StdioProxyOptions): Promise<number> {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const { observer, sessionId } = options;
  const child = spawn(options.command, options.args, { stdio: ['pipe', 'pipe', 'inherit'], env: options.env ?? process.env });

  const answer = (message: unknown) => output.write(`${JSON.stringify(message)}\n`);
  // Every line is looked at after it has gone on, except those that may be a
  // tool call when a policy is set: those are judged first.
  const gate: Gate | undefined = options.policy?.active
    ? {
        hold: (line) => {
          const denial = options.policy!.screen(line);
          if (!denial) return false;
          for (const { message, reason } of denial.refused) observer.refuse(message, { sessionId }, { outcome: 'deny', reason });
          if (denial.answer !== undefined) answer(denial.answer);
          return true;
        },
        oversized: () => answer({ jsonrpc: '2.0', id: null, error: { code: -32600, message: `message over ${MAX_OBSERVED_LINE} bytes refused: the tool policy cannot judge it` } }),
      }
    : undefined;
  const toServer = new LineTap((line) => {
    for (const message of messagesOf(line)) observer.fromClient(message, { sessionId });
  }, gate);
  const toClient = new LineTap((line) => {
    for (const message of messagesOf(line)) observer.fromServer(message, sessionId);
  });
  input.pipe(toServer).pipe(child.stdin);
  child.stdout.pipe(toClient).pipe(output, { end: false });
  // A server that exits while the client still writes: the write fails, the exit says why.
  child.stdin.on('error', () => undefined);

  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      input.unpipe(toServer);
      observer.endSession(sessionId);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}
