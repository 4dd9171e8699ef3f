// MCP audit: `import { auditMcpServer } from '@actorlog/sdk/mcp'`.
export { auditMcpServer, claimsFromAuthInfo, type AuditOptions } from './middleware.js';
// So an MCP server's audit is one import: the emitter comes with the middleware.
export { EmitterClient } from '../client.js';
export { McpObserver, DENIED_ERROR_CODE, type EventSink, type ObserverOptions, type Policy, type PolicyRequest, type RequestContext } from './observer.js';
export * from './map.js';
