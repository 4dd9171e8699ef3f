// The tenants a query may read, as an SQL condition. Who may read which
// tenants is decided above (query-api/tenancy.ts); here it becomes SQL.
export interface TenantScope {
  // null: every tenant (the development token).
  tenants: string[] | null;
}

// The SQL condition for a scope on `column`, with its parameter added to params.
export function tenantCondition(scope: TenantScope, column: string, params: Record<string, unknown>): string {
  if (scope.tenants === null) return '1';
  params.scope_tenants = scope.tenants;
  return `${column} IN {scope_tenants:Array(String)}`;
}
