// The lockfile and engines a fresh clone installs from. `npm ci` refuses a
// lockfile that misses an optional dependency of any platform, and a registry
// mirror that serves only this machine's platform package makes npm drop the
// others silently when the lockfile is regenerated; these tests catch both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const readJson = (file: string) => JSON.parse(fs.readFileSync(path.join(root, file), 'utf8'));

interface LockEntry {
  version?: string;
  engines?: { node?: string } | string[];
  optionalDependencies?: Record<string, string>;
  link?: boolean;
  resolved?: string;
}
const lock = readJson('package-lock.json') as { packages: Record<string, LockEntry> };
const pkg = readJson('package.json') as { engines: { node: string }; workspaces?: string[] };

test('the lockfile lists every optional platform package of every dependency', () => {
  for (const [where, entry] of Object.entries(lock.packages)) {
    for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
      const found = lock.packages[`node_modules/${name}`] ?? lock.packages[`${where}/node_modules/${name}`];
      assert.ok(found, `${where || 'the root'} wants ${name}@${version} (optional) but the lockfile has no entry: npm ci would fail`);
    }
  }
});

test('the lockfile holds every workspace', () => {
  for (const workspace of pkg.workspaces ?? []) {
    const own = readJson(path.join(workspace, 'package.json')) as { name: string };
    assert.ok(lock.packages[workspace], `workspace ${workspace} missing from the lockfile`);
    assert.equal(lock.packages[`node_modules/${own.name}`]?.resolved, workspace);
  }
});

// A small reading of npm's engines ranges: alternatives joined by `||`, each a
// list of comparators (>=, >, <=, <, ^, ~, =, bare or x-versions).
type Version = [number, number, number];
function parseVersion(text: string): Version {
  const parts = text.replace(/^v/, '').split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : 0));
  return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0];
}
const compare = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

function comparatorHolds(comparator: string, v: Version): boolean {
  const m = /^(>=|<=|>|<|\^|~|=)?\s*v?([\dxX*]+(?:\.[\dxX*]+)*)/.exec(comparator);
  if (!m) return true;
  const op = m[1] ?? '=';
  const text = m[2]!;
  const given = text.split('.').filter((p) => /^\d+$/.test(p)).length;
  const target = parseVersion(text);
  const c = compare(v, target);
  switch (op) {
    case '>=':
      return c >= 0;
    case '>':
      return c > 0;
    case '<=':
      return c <= 0;
    case '<':
      return c < 0;
    case '^':
      return c >= 0 && v[0] === target[0];
    case '~':
      return c >= 0 && v[0] === target[0] && (given < 2 || v[1] === target[1]);
    default:
      // `20` or `20.x` means any 20.*.
      if (given === 0) return true;
      if (given === 1) return v[0] === target[0];
      if (given === 2) return v[0] === target[0] && v[1] === target[1];
      return c === 0;
  }
}

export function rangeAdmits(range: string, version: string): boolean {
  const v = parseVersion(version);
  return range.split('||').some((alternative) =>
    alternative
      .trim()
      .replace(/(>=|<=|>|<|=)\s+/g, '$1')
      .split(/\s+/)
      .filter((c) => c !== '')
      .every((c) => comparatorHolds(c, v)),
  );
}

test('the range reader understands the forms dependencies use', () => {
  assert.ok(rangeAdmits('>=20', '20.19.0'));
  assert.ok(!rangeAdmits('>=22', '20.19.0'));
  assert.ok(rangeAdmits('18 || 20 || >=22', '20.19.0'));
  assert.ok(!rangeAdmits('18 || >=22', '20.19.0'));
  assert.ok(rangeAdmits('>= 0.8', '20.19.0'));
  assert.ok(rangeAdmits('^20.19.0 || >=22.12.0', '20.19.0'));
  assert.ok(!rangeAdmits('^20.19.0 || >=22.12.0', '21.0.0'));
});

test("every locked dependency's engines admit the oldest Node our engines allow", () => {
  const floor = /(\d+(?:\.\d+){0,2})/.exec(pkg.engines.node)?.[1];
  assert.ok(floor, 'package.json engines.node names a version');
  const refused = Object.entries(lock.packages)
    .filter(([, entry]) => entry.engines && !Array.isArray(entry.engines) && entry.engines.node)
    .filter(([, entry]) => !rangeAdmits((entry.engines as { node: string }).node, floor))
    .map(([where, entry]) => `${where}@${entry.version} wants node ${(entry.engines as { node: string }).node}`);
  assert.deepEqual(refused, [], `raise engines.node above ${floor} or pin these`);
});

test('the emitter package depends on nothing of the server', () => {
  const sdk = readJson('sdk/package.json') as { dependencies?: Record<string, string>; peerDependencies?: Record<string, string> };
  assert.deepEqual(Object.keys(sdk.dependencies ?? {}).sort().filter((d) => !['jose', 'zod'].includes(d)), []);
  const sources = (dir: string): string[] =>
    fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) return ['dist', 'node_modules'].includes(entry.name) ? [] : sources(rel);
      return entry.name.endsWith('.ts') ? [rel] : [];
    });
  for (const file of sources('sdk')) {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    for (const [, spec] of text.matchAll(/from\s+'([^']+)'/g)) {
      const target = spec!.startsWith('.') ? path.join(path.dirname(file), spec!) : spec!;
      assert.ok(!spec!.startsWith('.') || target.startsWith('sdk/'), `${file} imports ${spec} outside the package`);
    }
  }
});
