// C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the note text
//   <origin>\n<tree size, decimal>\n<root hash, base64>\n[<extension line>\n]...
export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
  extensions: string[];
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export function formatCheckpoint(cp: Checkpoint): string {
  if (cp.origin === '' || cp.origin.includes('\n')) throw new CheckpointError('the origin must be one non-empty line');
  if (!Number.isSafeInteger(cp.size) || cp.size < 0) throw new CheckpointError('the tree size must be a non-negative integer');
  if (cp.root.length !== 32) throw new CheckpointError('the root hash must be 32 bytes');
  if (cp.extensions.some((e) => e === '' || e.includes('\n'))) throw new CheckpointError('extension lines must be non-empty single lines');
  return [cp.origin, String(cp.size), cp.root.toString('base64'), ...cp.extensions].map((l) => `${l}\n`).join('');
}

export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new CheckpointError('a checkpoint ends with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new CheckpointError('a checkpoint has an origin, a tree size and a root hash');
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin === '') throw new CheckpointError('the origin line is empty');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) throw new CheckpointError(`the tree size "${sizeText}" is not a decimal integer`);
  const root = Buffer.from(rootText, 'base64');
  if (root.length !== 32 || root.toString('base64') !== rootText) throw new CheckpointError('the root hash is not 32 bytes of base64');
  if (extensions.some((e) => e === '')) throw new CheckpointError('an extension line is empty');
  return { origin, size: Number(sizeText), root, extensions };
}
