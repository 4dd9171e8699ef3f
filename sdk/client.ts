// The emitter SDK: what a gateway, MCP server or agent runtime embeds to
// report what it did. `emit` fills the envelope (id, time, seq, source), signs
// (or, with `signing: 'batch'`, leaves the signing to each request sent),
// and resolves once the event is in the durable outbox (group commit: one
// fsync for all emits made while the previous write ran); a background loop
// sends the outbox to ingest in batches and retries with backoff until ingest
// has answered for every event. Nothing signed is dropped silently: an event
// ingest refuses is reported to `onRejected` (and ingest keeps it in quarantine).
import { eventSchema, type ActorlogEvent, type EventInput } from './schema/event.js';
import { eventOfLine, isUnsigned, Outbox } from './outbox.js';
import { importSigningKey, signBatchOfBytes, signEvent, type PrivateJwk, type SigningAlg, type SigningKey } from './sign.js';
import { IngestTokens } from './ingest-token.js';
import { uuidv7 } from './uuidv7.js';

export interface EmitterOptions {
  // Base URL of ingest, e.g. http://127.0.0.1:8080
  endpoint: string;
  // The emitter id the key is registered for, e.g. gw:prod-1
  source: string;
  // The private JWK printed by `actorlog keys generate` (with kid and alg).
  privateJwk: PrivateJwk;
  // The JWS alg; defaults to the JWK's alg (EdDSA for Ed25519 keys). `Ed25519`
  // is the fully specified name RFC 9864 prefers to EdDSA.
  alg?: SigningAlg;
  // Where seq and the outbox live; one folder per emitter process.
  stateDir: string;
  // 'event' (default): each emit signs its event (a compact JWS) before it
  // resolves. 'batch': each emit keeps the validated event's JSON in the
  // outbox and every request to ingest is signed once (signBatch: one JWS over
  // the Merkle root of the request's events, each event carrying its
  // inclusion path, so it still verifies alone). Batch-signed events carry no
  // `prev` (docs/event.md, "Signed batches").
  signing?: 'event' | 'batch';
  // Events per request (default 100).
  batchSize?: number;
  // How long an event may wait for a fuller batch (default 200 ms).
  flushIntervalMs?: number;
  // Backoff after a failed send: doubles from initial up to max (defaults 250 ms, 30 s).
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  // Signed liveness: every intervalMs an emitter.heartbeat carrying the next
  // seq, so events lost at the tail show as a gap and a dead emitter as
  // silent. Off unless set; the processor's EMITTER_SILENT_AFTER_MS should be
  // a few intervals.
  heartbeat?: { tenant: string; intervalMs: number };
  onRejected?: (rejection: Rejection) => void;
  onSendError?: (err: Error) => void;
}

export interface Rejection {
  id: string;
  code: string;
  message: string;
}

export interface FlushResult {
  sent: number;
  rejected: Rejection[];
  // Events still in the outbox (sent on the next start with the same stateDir).
  pending: number;
  // Why they are still there, when a send failed (close() only; flush() throws).
  error?: SendError;
}

interface IngestAnswer {
  accepted?: { index: number; id: string }[];
  rejected?: { index: number; code: string; message: string }[];
  error?: { code: string; message: string; retriable?: boolean };
}

export class SendError extends Error {
  constructor(
    message: string,
    readonly retriable: boolean,
  ) {
    super(message);
    this.name = 'SendError';
  }
}

// Envelope fields the SDK owns; an input that sets them is refused rather
// than silently overwritten.
const OWNED_FIELDS = ['specversion', 'source', 'seq', 'prev'] as const;

export class EmitterClient {
  private readonly opts: Required<Omit<EmitterOptions, 'onRejected' | 'onSendError' | 'heartbeat' | 'alg'>> &
    Pick<EmitterOptions, 'onRejected' | 'onSendError' | 'heartbeat' | 'alg'>;
  private readonly outbox: Outbox;
  private signer?: SigningKey;
  // Each request carries a short-lived token signed with the event key (ingest-token.ts).
  private readonly tokens: IngestTokens;
  private sending: Promise<unknown> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;
  private backoffMs = 0;
  private closed = false;
  // Totals over the client's life, whichever flush sent them.
  readonly totals = { sent: 0, rejected: 0 };

  constructor(options: EmitterOptions) {
    this.opts = {
      batchSize: 100,
      flushIntervalMs: 200,
      signing: 'event',
      initialBackoffMs: 250,
      maxBackoffMs: 30_000,
      ...options,
      endpoint: options.endpoint.replace(/\/+$/, ''),
    };
    this.outbox = new Outbox(options.stateDir, options.source);
    this.tokens = new IngestTokens(() => (this.signer ??= importSigningKey(this.opts.privateJwk, this.opts.alg)), options.source);
    // Events a previous run left unsent go first.
    if (this.outbox.size > 0) this.schedule(0);
    const { heartbeat } = options;
    if (heartbeat) {
      this.heartbeatTimer = setInterval(() => {
        this.emit({ type: 'emitter.heartbeat', tenant: heartbeat.tenant, human: null }).catch((err: Error) => this.opts.onSendError?.(err));
      }, heartbeat.intervalMs);
      this.heartbeatTimer.unref();
    }
  }

  // Events written to the outbox and not yet answered for by ingest.
  get pending(): number {
    return this.outbox.size;
  }

  // Validates, numbers and signs the event at once (synchronously, so seq
  // order is call order), then resolves with its id when it is durable. An
  // invalid event rejects without using a seq.
  emit(input: EventInput): Promise<string> {
    if (this.closed) return Promise.reject(new Error('the emitter is closed'));
    let event: ActorlogEvent;
    let line: string;
    try {
      for (const field of OWNED_FIELDS) {
        if (field in input) throw new TypeError(`emit fills ${OWNED_FIELDS.filter((f) => f in input).join(', ')}; leave them out of the input`);
      }
      const unsigned = {
        specversion: '1.0',
        ...input,
        id: input.id ?? uuidv7(),
        source: this.opts.source,
        time: input.time ?? new Date().toISOString(),
        seq: 0,
      };
      event = eventSchema.parse(unsigned);
      this.signer ??= importSigningKey(this.opts.privateJwk, this.opts.alg);
      event.seq = this.outbox.nextSeq();
      if (this.opts.signing === 'batch') {
        line = JSON.stringify(event);
      } else {
        // The hash chain: the digest of this emitter's previous signed event.
        const prev = this.outbox.prev;
        if (prev) event.prev = prev;
        line = signEvent(event, this.signer);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    const id = event.id;
    return this.outbox.append(line).then(() => {
      this.schedule(this.outbox.size >= this.opts.batchSize ? 0 : this.opts.flushIntervalMs);
      return id;
    });
  }

  private schedule(delayMs: number): void {
    if (this.closed && delayMs > 0) return;
    if (this.timer) {
      if (delayMs > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch((err: Error) => this.opts.onSendError?.(err));
    }, Math.max(delayMs, this.backoffMs));
    this.timer.unref();
  }

  // Sends everything queued; resolves when the outbox is empty, throws a
  // SendError (events stay queued, a retry is scheduled) when ingest cannot take them.
  flush(): Promise<FlushResult> {
    const run = this.sending.then(async () => {
      await this.outbox.written();
      return this.sendAll();
    });
    this.sending = run.catch(() => undefined);
    return run;
  }

  private async sendAll(): Promise<FlushResult> {
    const result: FlushResult = { sent: 0, rejected: [], pending: 0 };
    let size = this.opts.batchSize;
    while (this.outbox.size > 0) {
      const batch = this.outbox.peek(size);
      let answer: IngestAnswer;
      try {
        answer = await this.post(this.signed(batch));
      } catch (err) {
        if (err instanceof SendError && err.message.startsWith('413') && size > 1) {
          size = Math.max(1, Math.floor(batch.length / 2));
          continue;
        }
        this.backoffMs = Math.min(this.opts.maxBackoffMs, this.backoffMs ? this.backoffMs * 2 : this.opts.initialBackoffMs);
        this.schedule(this.backoffMs);
        throw err;
      }
      this.backoffMs = 0;
      for (const r of answer.rejected ?? []) {
        const rejection = { id: idOf(batch[r.index]), code: r.code, message: r.message };
        result.rejected.push(rejection);
        this.opts.onRejected?.(rejection);
      }
      result.sent += answer.accepted?.length ?? 0;
      this.totals.sent += answer.accepted?.length ?? 0;
      this.totals.rejected += answer.rejected?.length ?? 0;
      this.outbox.settle(batch.length);
    }
    result.pending = this.outbox.size;
    return result;
  }

  // What goes on the wire: lines kept as JSON are signed together, once per
  // request (each keeps its place, so ingest's answer indexes still match).
  private signed(lines: string[]): string[] {
    const unsigned = lines.flatMap((line, i) => (isUnsigned(line) ? [i] : []));
    if (unsigned.length === 0) return lines;
    this.signer ??= importSigningKey(this.opts.privateJwk, this.opts.alg);
    const batch = signBatchOfBytes(unsigned.map((i) => Buffer.from(lines[i]!)), this.signer);
    const wire = [...lines];
    unsigned.forEach((i, k) => (wire[i] = batch[k]!));
    return wire;
  }

  private async post(batch: string[]): Promise<IngestAnswer> {
    let response: Response;
    try {
      response = await fetch(`${this.opts.endpoint}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.tokens.current()}` },
        body: JSON.stringify({ events: batch }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new SendError(`ingest unreachable: ${(err as Error).message}`, true);
    }
    const answer = (await response.json().catch(() => ({}))) as IngestAnswer;
    // 202: some or all accepted; 400 with a per-event list: every event refused
    // (and quarantined by ingest). Both settle the batch.
    if (response.status === 202 || (response.status === 400 && Array.isArray(answer.rejected))) return answer;
    const retriable = response.status >= 500 || response.status === 429 || response.status === 408;
    throw new SendError(`${response.status} ${answer.error?.code ?? ''} ${answer.error?.message ?? ''}`.trim(), retriable);
  }

  // Sends what is queued, then stops the background loop and closes the
  // outbox. With ingest down it does not throw: the result says how many
  // events stay in the outbox and why; the next client on the same stateDir sends them.
  async close(): Promise<FlushResult> {
    clearInterval(this.heartbeatTimer);
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const sentBefore = this.totals.sent;
    try {
      return await this.flush();
    } catch (err) {
      if (!(err instanceof SendError)) throw err;
      this.opts.onSendError?.(err);
      return { sent: this.totals.sent - sentBefore, rejected: [], pending: this.outbox.size, error: err };
    } finally {
      if (this.timer) clearTimeout(this.timer);
      await this.outbox.close();
    }
  }
}

function idOf(line: string | undefined): string {
  const id = eventOfLine(line)?.id;
  return typeof id === 'string' ? id : '';
}
