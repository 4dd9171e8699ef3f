// The flags the processor raises on a stored event. Definitions in docs/flags.md.
export const FLAGS = [
  'identity_context_loss',
  'impersonation',
  'token_passthrough',
  'scope_exceeded',
  'scope_exceeded_allowed',
  'scope_widening',
  'expired_token',
  'clock_skew',
  'after_revocation',
  'jti_reuse',
  'sequence_gap',
  'chain_break',
  'emitter_silent',
] as const;
export type Flag = (typeof FLAGS)[number];
