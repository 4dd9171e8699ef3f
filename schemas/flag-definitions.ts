// One sentence per flag, for people reading an event (the console shows it
// next to the flag). The full rules, with when each is not raised, are in
// docs/flags.md.
import type { Flag } from './row.js';

export const FLAG_DEFINITIONS: Record<Flag, string> = {
  identity_context_loss: 'An agent acted and nothing says for whom: no human, and the delegation mode is not "none".',
  impersonation: 'The agent acted as the human (delegation mode impersonation), so downstream systems saw the human alone.',
  token_passthrough: "The token's audience is not this server's own: a token minted for another audience was passed through.",
  scope_exceeded: 'The tool requires a scope the token (or, without a token, the delegation) does not hold, whatever the decision.',
  scope_exceeded_allowed: 'The call was allowed although the tool requires a scope the token (or the delegation) does not hold: the incident, not a blocked attempt.',
  scope_widening: 'An actor holds a scope its delegator did not grant.',
  expired_token: 'The token had expired (exp at or before the event time).',
  clock_skew: 'The event time is too far ahead of, or behind, when ingest received it.',
  after_revocation: 'The action is dated at or after the revocation of its grant or consent, or after its human left.',
  jti_reuse: 'The same token id was presented at a different server: evidence of passthrough.',
  sequence_gap: "Sequence numbers are missing before this event's seq: events of this emitter were lost or are late.",
  chain_break: "The event's prev does not name the emitter's stored previous event: a stretch was withheld or replaced.",
  emitter_silent: "The emitter's previous event or heartbeat came longer than EMITTER_SILENT_AFTER_MS before this one.",
};
