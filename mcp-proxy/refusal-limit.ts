// A bound on what refused requests cost: each refusal (bad token, wrong
// audience, bad Host or Origin) is recorded as a denied event, so a client
// hammering the proxy with bad requests would otherwise write an event per
// request. Per address and window, the first `limit` refusals are answered
// and recorded as usual; the ones beyond are answered 429 and only counted,
// and the count is said (logged) when the window ends.
import net from 'node:net';

export interface RefusalLimitOptions {
  // Refusals recorded per address and window; 0: no limit.
  limit: number;
  windowMs: number;
  // Addresses tracked at once; past this the oldest window is closed early.
  maxAddresses?: number;
  // Told when a window that went over its limit ends: how many were counted, not recorded.
  onLimited?: (address: string, counted: number) => void;
  now?: () => number;
}

export interface RefusalStats {
  // Every refusal, limited or not.
  refused: number;
  // Refusals recorded as denied events.
  recorded: number;
  // Refusals beyond the limit: answered 429, counted, not recorded.
  limited: number;
}

interface Window {
  start: number;
  count: number;
  limited: number;
}

// The address a limit applies to: IPv4 as it is; IPv6 by its /64, the block
// one subscriber usually holds (a host can pick any address inside it).
export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4) return v4[1]!;
  if (net.isIPv6(address)) {
    const [head = '', tail = ''] = address.split('::');
    const left = head ? head.split(':') : [];
    const right = tail ? tail.split(':') : [];
    const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
    return `${groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
  }
  return address;
}

export class RefusalLimit {
  readonly stats: RefusalStats = { refused: 0, recorded: 0, limited: 0 };
  private readonly windows = new Map<string, Window>();
  private readonly now: () => number;
  private readonly maxAddresses: number;

  constructor(private readonly options: RefusalLimitOptions) {
    this.now = options.now ?? Date.now;
    this.maxAddresses = options.maxAddresses ?? 10_000;
  }

  // One refusal from this address. recorded: answer and record it as usual;
  // else answer 429 and tell the client when to retry.
  take(address: string | undefined): { recorded: true } | { recorded: false; retryAfterSeconds: number } {
    this.stats.refused++;
    if (this.options.limit === 0) {
      this.stats.recorded++;
      return { recorded: true };
    }
    const key = addressKey(address);
    const now = this.now();
    let window = this.windows.get(key);
    if (window && now - window.start >= this.options.windowMs) {
      this.close(key, window);
      window = undefined;
    }
    if (!window) {
      if (this.windows.size >= this.maxAddresses) this.evictOldest();
      window = { start: now, count: 0, limited: 0 };
      this.windows.set(key, window);
    }
    window.count++;
    if (window.count <= this.options.limit) {
      this.stats.recorded++;
      return { recorded: true };
    }
    window.limited++;
    this.stats.limited++;
    return { recorded: false, retryAfterSeconds: Math.max(1, Math.ceil((window.start + this.options.windowMs - now) / 1000)) };
  }

  // Closes the windows that have ended (run now and then, so an address that
  // stops sending still has its count said) or, with all, every window (at exit).
  sweep(all = false): void {
    const now = this.now();
    for (const [key, window] of this.windows) if (all || now - window.start >= this.options.windowMs) this.close(key, window);
  }

  private close(key: string, window: Window): void {
    this.windows.delete(key);
    if (window.limited > 0) this.options.onLimited?.(key, window.limited);
  }

  private evictOldest(): void {
    // Maps keep insertion order and a window is re-inserted when it restarts: the first is the oldest.
    const first = this.windows.entries().next().value;
    if (first) this.close(first[0], first[1]);
  }
}
