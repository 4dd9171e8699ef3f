// A bound on heavy work running at once (exports, report runs): at most
// `perTenant` for any one tenant and `total` over all. A caller over the
// bound is refused at once, never queued: TOO_MANY_EXPORTS (429) when its
// tenant is at its bound, EXPORTS_BUSY (503) when the whole is, each counted.
import { ActorlogError } from './errors.js';

export interface ConcurrencyLimits {
  perTenant: number;
  total: number;
}

// A caller without a tenant list (every tenant) is counted under this name.
const ALL_TENANTS = '*';

export class ConcurrencyGate {
  private running = 0;
  private readonly byTenant = new Map<string, number>();

  constructor(
    private readonly limits: ConcurrencyLimits,
    private readonly refused: (limit: 'tenant' | 'total') => void = () => undefined,
  ) {}

  // Takes a place for work over these tenants (null: every tenant) and
  // returns the function that gives it back (once; later calls do nothing).
  enter(tenants: readonly string[] | null): () => void {
    const keys = [...new Set(tenants ?? [ALL_TENANTS])];
    const full = keys.find((k) => (this.byTenant.get(k) ?? 0) >= this.limits.perTenant);
    if (full !== undefined) {
      this.refused('tenant');
      throw new ActorlogError('TOO_MANY_EXPORTS', `${this.limits.perTenant} already running for tenant ${full}`);
    }
    if (this.running >= this.limits.total) {
      this.refused('total');
      throw new ActorlogError('EXPORTS_BUSY', `${this.limits.total} running`);
    }
    this.running++;
    for (const k of keys) this.byTenant.set(k, (this.byTenant.get(k) ?? 0) + 1);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.running--;
      for (const k of keys) {
        const n = this.byTenant.get(k)! - 1;
        if (n === 0) this.byTenant.delete(k);
        else this.byTenant.set(k, n);
      }
    };
  }

  get active(): number {
    return this.running;
  }
}
