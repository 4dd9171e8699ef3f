// Flags that can be decided from one verified event alone. Each definition is
// written out in docs/flags.md; keep the two in step.
import { AGENT_ACTIONS, type ActorlogEvent } from '../schemas/event.js';
import type { Flag } from '../schemas/row.js';

export function statelessFlags(event: ActorlogEvent): Flag[] {
  const flags: Flag[] = [];
  const mode = event.delegation?.mode;

  // The agent acted without a known human although nothing says it acts for itself.
  if (AGENT_ACTIONS.has(event.type) && event.human === null && mode !== 'none') flags.push('identity_context_loss');

  if (mode === 'impersonation') flags.push('impersonation');

  // The token was minted for another audience than the server it was presented to.
  const { token, target } = event;
  if (token && target && !token.aud.includes(target.server.audience)) flags.push('token_passthrough');

  if (token && token.exp * 1000 <= Date.parse(event.time)) flags.push('expired_token');
  return flags;
}
