// MCP audit: `import { auditMcpServer } from '@actorlog/sdk/mcp'`.
export { auditMcpServer, claimsFromAuthInfo, type AuditOptions } from './middleware.js';
export { McpObserver, DENIED_ERROR_CODE, type EventSink, type ObserverOptions, type Policy, type PolicyRequest, type RequestContext } from './observer.js';
export * from './map.js';
