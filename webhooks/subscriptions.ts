// Who is told about which findings: a JSON file (WEBHOOKS_FILE) listing
// subscriptions, each for one tenant and the finding kinds it wants.
import fs from 'node:fs';
import { z } from 'zod';
import { ActorlogError } from '../lib/errors.js';

// flag: any flag raised on a stored event other than the two below, which
// have kinds of their own (docs/flags.md).
export const FINDING_KINDS = ['flag', 'sequence_gap', 'emitter_silent', 'chain_break'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

const subscriptionSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  tenant: z.string().min(1).max(256),
  kinds: z.array(z.enum(FINDING_KINDS)).min(1),
  url: z.url({ protocol: /^https?$/ }),
});
export type Subscription = z.infer<typeof subscriptionSchema>;

const fileSchema = z.strictObject({ subscriptions: z.array(subscriptionSchema) });

export function loadSubscriptions(file: string | undefined): Subscription[] {
  if (!file) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ActorlogError('CONFIG_INVALID', `WEBHOOKS_FILE ${file}: ${(err as Error).message}`);
  }
  const result = fileSchema.safeParse(parsed);
  if (!result.success) throw new ActorlogError('CONFIG_INVALID', `WEBHOOKS_FILE ${file}: ${z.prettifyError(result.error)}`);
  const ids = result.data.subscriptions.map((s) => s.id);
  if (new Set(ids).size !== ids.length) throw new ActorlogError('CONFIG_INVALID', `WEBHOOKS_FILE ${file}: subscription ids must be unique`);
  return result.data.subscriptions;
}
