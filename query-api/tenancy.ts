// Every query is confined to the caller's tenants, whatever its parameters
// say: a tenant filter may narrow the scope, never widen it.
import { ActorlogError } from '../lib/errors.js';
import type { Principal } from './auth.js';

export interface TenantScope {
  // null: every tenant (the development token).
  tenants: string[] | null;
}

export function tenantScope(principal: Principal, requested?: string): TenantScope {
  const allowed = principal.tenants;
  if (allowed !== '*' && allowed.length === 0) throw new ActorlogError('FORBIDDEN', 'the token names no tenant');
  if (requested !== undefined) {
    if (allowed !== '*' && !allowed.includes(requested)) throw new ActorlogError('FORBIDDEN', 'not a tenant of the caller');
    return { tenants: [requested] };
  }
  return { tenants: allowed === '*' ? null : allowed };
}

// The SQL condition for a scope on `column`, with its parameter added to params.
export function tenantCondition(scope: TenantScope, column: string, params: Record<string, unknown>): string {
  if (scope.tenants === null) return '1';
  params.scope_tenants = scope.tenants;
  return `${column} IN {scope_tenants:Array(String)}`;
}
