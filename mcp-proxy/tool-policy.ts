// The proxy's per-tool policy (`--allow-tool`, `--deny-tool`): which
// `tools/call` requests reach the server. A denied call is answered by the
// proxy with a JSON-RPC error and recorded as a denied event; everything
// else (other methods, responses, notifications) is not the policy's business.
import { DENIED_ERROR_CODE } from '@actorlog/sdk/mcp';
import { parsedMessages } from './lines.js';

type JsonRpcMessage = Record<string, unknown>;
type JsonRpcId = string | number | null;

export interface ToolPolicyOptions {
  // Names, or prefixes ending in `*` (`delete_*`). Deny wins over allow.
  allow: string[];
  deny: string[];
}

// What the proxy does instead of passing a client's message on: the messages
// it refused (each request recorded with its reason) and the answer to send
// back (none when only notifications were refused).
export interface ToolDenial {
  refused: { message: JsonRpcMessage; reason: string }[];
  answer: unknown;
}

const matcher = (patterns: string[]) => {
  const exact = new Set(patterns.filter((p) => !p.endsWith('*')));
  const prefixes = patterns.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  return (name: string) => exact.has(name) || prefixes.some((prefix) => name.startsWith(prefix));
};

const isRequest = (m: JsonRpcMessage) => typeof m.method === 'string' && m.id !== undefined && m.id !== null;
const error = (id: JsonRpcId, code: number, message: string) => ({ jsonrpc: '2.0' as const, id, error: { code, message } });

// Only a message naming tools/call can be one; JSON may also write the name
// with escapes (`tools\/call`, `\u0074ools/call`), so a message with either
// kind of escape is read too. Every other message (most of them) is passed on
// without being parsed first.
const TOOLS_CALL = Buffer.from('tools/call');
const UNICODE_ESCAPE = Buffer.from('\\u');
const SLASH_ESCAPE = Buffer.from('\\/');
export function mayCallTool(bytes: Buffer): boolean {
  return bytes.includes(TOOLS_CALL) || bytes.includes(UNICODE_ESCAPE) || bytes.includes(SLASH_ESCAPE);
}

export class ToolPolicy {
  private readonly allowed: (name: string) => boolean;
  private readonly denied: (name: string) => boolean;
  private readonly allowList: boolean;

  constructor(readonly options: ToolPolicyOptions) {
    this.allowed = matcher(options.allow);
    this.denied = matcher(options.deny);
    this.allowList = options.allow.length > 0;
  }

  get active(): boolean {
    return this.allowList || this.options.deny.length > 0;
  }

  // Why a call of this tool is refused; undefined: it may go on.
  reasonFor(tool: unknown): string | undefined {
    const name = typeof tool === 'string' ? tool : '';
    if (this.denied(name)) return `tool ${JSON.stringify(name.slice(0, 256))} is denied (--deny-tool)`;
    if (this.allowList && !this.allowed(name)) return `tool ${JSON.stringify(name.slice(0, 256))} is not an allowed tool (--allow-tool)`;
    return undefined;
  }

  // One client message (a stdio line or a request body). Undefined: pass it
  // on as it is. Else none of it goes to the server: a batch holding a denied
  // call is refused whole, so no part of it runs without the rest; and a
  // message that may name tools/call but is not JSON the proxy can read is
  // refused as a parse error rather than passed on unjudged.
  screen(bytes: Buffer): ToolDenial | undefined {
    if (!this.active || !mayCallTool(bytes)) return undefined;
    const parsed = parsedMessages(bytes.toString('utf8'));
    if (!parsed) return { refused: [], answer: error(null, -32700, 'Parse error (refused by the tool policy)') };
    const reasonOf = (message: JsonRpcMessage) =>
      message.method === 'tools/call' ? this.reasonFor((message.params as { name?: unknown } | undefined)?.name) : undefined;
    // A tools/call without an id is judged too: a server may run it all the same.
    const first = parsed.messages.map(reasonOf).find(Boolean);
    if (!first) return undefined;
    const refused = parsed.messages.map((message) => ({ message, reason: reasonOf(message) ?? `refused with a denied call in the same batch: ${first}` }));
    const answers = refused.filter(({ message }) => isRequest(message)).map(({ message, reason }) => error(message.id as JsonRpcId, DENIED_ERROR_CODE, `denied by policy: ${reason}`));
    return { refused, answer: parsed.batch ? (answers.length ? answers : undefined) : answers[0] };
  }
}
