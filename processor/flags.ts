// Flags that can be decided from one verified event and its receipt time.
// (Flags that need history live in processor/state/.) Each definition is
// written out in docs/flags.md; keep the two in step.
import { AGENT_ACTIONS, type ActorlogEvent } from '../schemas/event.js';
import type { Flag } from '../schemas/flags.js';

export interface SkewLimits {
  futureMs: number;
  pastMs: number;
}

// Modes in which a human delegated a bounded set of scopes.
const DELEGATING_MODES: ReadonlySet<string> = new Set(['oauth', 'obo_exchange', 'jit_approval']);

const notWithin = (held: readonly string[], allowed: readonly string[]) => held.some((s) => !allowed.includes(s));

function widensScopes(event: ActorlogEvent): boolean {
  const { delegation, token, actors } = event;
  const delegated = delegation && DELEGATING_MODES.has(delegation.mode) ? delegation.scopes : undefined;
  if (delegated && token && notWithin(token.scope, delegated)) return true;
  // Actors are outermost first: each one's delegator is the next, the innermost's the human's grant.
  const chain = (actors ?? []).map((a) => a.scopes);
  for (let i = 0; i < chain.length; i++) {
    const held = chain[i];
    const delegator = i + 1 < chain.length ? chain[i + 1] : delegated;
    if (held && delegator && notWithin(held, delegator)) return true;
  }
  return false;
}

export function statelessFlags(event: ActorlogEvent, receivedAt: number, skew: SkewLimits): Flag[] {
  const flags: Flag[] = [];
  const { token, target, delegation } = event;
  const mode = delegation?.mode;
  const time = Date.parse(event.time);

  // The agent acted without a known human although nothing says it acts for itself.
  if (AGENT_ACTIONS.has(event.type) && event.human === null && mode !== 'none') flags.push('identity_context_loss');
  if (mode === 'impersonation') flags.push('impersonation');
  // The token was minted for another audience than the server it was presented to.
  if (token && target && !token.aud.includes(target.server.audience)) flags.push('token_passthrough');
  // The tool needs a scope the presented token (or, without a token, the delegation) does not hold.
  const required = target?.tool?.required_scopes;
  if (required && notWithin(required, token?.scope ?? delegation?.scopes ?? [])) {
    flags.push('scope_exceeded');
    // A denied attempt is policy working; an allowed one is the incident.
    if (event.decision && event.decision.outcome !== 'deny') flags.push('scope_exceeded_allowed');
  }
  if (widensScopes(event)) flags.push('scope_widening');
  if (token && token.exp * 1000 <= time) flags.push('expired_token');
  if (time > receivedAt + skew.futureMs || time < receivedAt - skew.pastMs) flags.push('clock_skew');
  return flags;
}
