// Every query is confined to the caller's tenants, whatever its parameters
// say: a tenant filter may narrow the scope, never widen it.
import { ActorlogError } from '../lib/errors.js';
import type { TenantScope } from '../store/tenancy.js';
import type { Principal } from './auth.js';

export type { TenantScope };

export function tenantScope(principal: Principal, requested?: string): TenantScope {
  const allowed = principal.tenants;
  if (allowed !== '*' && allowed.length === 0) throw new ActorlogError('FORBIDDEN', 'the token names no tenant');
  if (requested !== undefined) {
    if (allowed !== '*' && !allowed.includes(requested)) throw new ActorlogError('FORBIDDEN', 'not a tenant of the caller');
    return { tenants: [requested] };
  }
  return { tenants: allowed === '*' ? null : allowed };
}
