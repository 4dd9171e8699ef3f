// The pinned OCSF definitions (schemas/ocsf/<version>/, copied unmodified
// from the ocsf-schema repository), compiled the way the schema defines them:
// a class or object is its `extends` chain merged parent first, the profiles
// it `$include`s tagged with their profile name (so they only count when the
// event applies that profile), its own attributes last; each attribute takes
// its type, array-ness and base enum from the dictionary.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const OCSF_VERSION = '1.9.0-dev';
const DIR = fileURLToPath(new URL(`../../../schemas/ocsf/${OCSF_VERSION}/`, import.meta.url));

export type Requirement = 'required' | 'recommended' | 'optional';

interface RawAttr {
  type?: string;
  is_array?: boolean;
  requirement?: Requirement;
  enum?: Record<string, { caption: string }>;
  sibling?: string;
  profile?: string | null;
  observable?: number;
  '@deprecated'?: unknown;
}
interface RawEntity {
  name: string;
  caption: string;
  uid?: number;
  extends?: string;
  category?: string;
  observable?: number;
  attributes: Record<string, RawAttr | string[]>;
  constraints?: Constraints;
  profiles?: string[];
  '@deprecated'?: unknown;
}
interface RawType {
  type?: string;
  regex?: string;
  max_len?: number;
  range?: [number, number];
  values?: unknown[];
}

export interface Constraints {
  at_least_one?: string[];
  just_one?: string[];
}

export interface Attribute {
  name: string;
  type: string;
  isArray: boolean;
  requirement: Requirement;
  // enum value (as its JSON text) -> caption
  enum?: Map<string, string>;
  sibling?: string;
  // set when the attribute comes from a profile: it is allowed (and its
  // requirement applies) only when the event lists that profile
  profile?: string;
  deprecated: boolean;
}

export interface Shape {
  name: string;
  caption: string;
  attributes: Map<string, Attribute>;
  constraints: Constraints;
  deprecated: boolean;
}

export interface EventClass extends Shape {
  classUid: number;
  categoryUid: number;
  categoryCaption: string;
  profiles: string[];
}

export interface ScalarType {
  name: string;
  // the chain from this type down to its primitive (e.g. email_t, string_t)
  chain: (RawType & { name: string })[];
}

export interface OcsfSchema {
  version: string;
  classes: Map<number, EventClass>;
  classByName: Map<string, EventClass>;
  object(name: string): Shape | undefined;
  scalar(name: string): ScalarType | undefined;
  profileNames: Set<string>;
}

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;

function readFolder(folder: string): RawEntity[] {
  const out: RawEntity[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.json')) out.push(readJson<RawEntity>(full));
    }
  };
  walk(path.join(DIR, folder));
  return out;
}

function mergeAttr(parent: RawAttr | undefined, child: RawAttr): RawAttr {
  if (!parent) return { ...child };
  const merged: RawAttr = { ...parent, ...child };
  if (parent.enum || child.enum) merged.enum = { ...parent.enum, ...child.enum };
  return merged;
}

function mergeAttrs(base: Map<string, RawAttr>, over: Map<string, RawAttr>): Map<string, RawAttr> {
  const out = new Map(base);
  for (const [name, attr] of over) out.set(name, mergeAttr(out.get(name), attr));
  return out;
}

export function loadOcsfSchema(): OcsfSchema {
  const dictionary = readJson<{ attributes: Record<string, RawAttr>; types: { attributes: Record<string, RawType> } }>(
    path.join(DIR, 'dictionary.json'),
  );
  const categories = readJson<{ attributes: Record<string, { uid: number; caption: string }> }>(path.join(DIR, 'categories.json'));
  const version = readJson<{ version: string }>(path.join(DIR, 'version.json')).version;
  if (version !== OCSF_VERSION) throw new Error(`pinned OCSF folder holds ${version}, expected ${OCSF_VERSION}`);

  const profiles = new Map(readFolder('profiles').map((p) => [p.name, p]));
  const rawObjects = new Map(readFolder('objects').map((o) => [o.name, o]));
  const rawEvents = new Map(readFolder('events').map((e) => [e.name, e]));

  // One file's attributes: its $include'd profiles first (tagged), then its own.
  const ownAttrs = (raw: RawEntity): Map<string, RawAttr> => {
    const out = new Map<string, RawAttr>();
    const includes = (raw.attributes.$include ?? []) as string[];
    for (const include of includes) {
      const profile = profiles.get(path.basename(include, '.json'));
      if (!profile) throw new Error(`${raw.name} includes ${include}, which is not pinned`);
      for (const [name, attr] of Object.entries(profile.attributes)) {
        out.set(name, mergeAttr(out.get(name), { ...(attr as RawAttr), profile: profile.name }));
      }
    }
    for (const [name, attr] of Object.entries(raw.attributes)) {
      if (name !== '$include') out.set(name, mergeAttr(out.get(name), attr as RawAttr));
    }
    return out;
  };

  const resolveRaw = (raw: RawEntity, table: Map<string, RawEntity>): { attrs: Map<string, RawAttr>; chain: RawEntity[] } => {
    if (!raw.extends) return { attrs: ownAttrs(raw), chain: [raw] };
    const parent = table.get(raw.extends);
    if (!parent) throw new Error(`${raw.name} extends ${raw.extends}, which is not pinned`);
    const base = resolveRaw(parent, table);
    return { attrs: mergeAttrs(base.attrs, ownAttrs(raw)), chain: [...base.chain, raw] };
  };

  const compileAttr = (name: string, raw: RawAttr, owner: string): Attribute => {
    const dict = dictionary.attributes[name];
    if (!dict) throw new Error(`${owner}.${name} is not in the dictionary`);
    const type = raw.type ?? dict.type;
    if (!type) throw new Error(`${owner}.${name} has no type`);
    const enumEntries = { ...dict.enum, ...raw.enum };
    const attr: Attribute = {
      name,
      type,
      isArray: raw.is_array ?? dict.is_array ?? false,
      requirement: raw.requirement ?? 'optional',
      deprecated: Boolean(raw['@deprecated'] ?? dict['@deprecated']),
    };
    if (Object.keys(enumEntries).length > 0) attr.enum = new Map(Object.entries(enumEntries).map(([k, v]) => [k, v.caption]));
    const sibling = raw.sibling ?? dict.sibling;
    if (sibling) attr.sibling = sibling;
    if (raw.profile) attr.profile = raw.profile;
    return attr;
  };

  const compileShape = (raw: RawEntity, table: Map<string, RawEntity>): Shape & { chain: RawEntity[] } => {
    const { attrs, chain } = resolveRaw(raw, table);
    const attributes = new Map([...attrs].map(([name, attr]) => [name, compileAttr(name, attr, raw.name)]));
    // Constraints are the nearest definition's (a child restating them replaces them).
    const constraints = [...chain].reverse().find((c) => c.constraints)?.constraints ?? {};
    return { name: raw.name, caption: raw.caption, attributes, constraints, deprecated: Boolean(raw['@deprecated']), chain };
  };

  // Observable type ids: the ones the schema declares on types, dictionary
  // attributes and objects, merged into observable.type_id's own enum.
  const observableIds = new Map<string, string>();
  for (const [name, t] of Object.entries(dictionary.types.attributes) as [string, RawType & { observable?: number; caption?: string }][]) {
    if (t.observable !== undefined) observableIds.set(String(t.observable), t.caption ?? name);
  }
  for (const [name, a] of Object.entries(dictionary.attributes)) {
    if (a.observable !== undefined) observableIds.set(String(a.observable), (a as { caption?: string }).caption ?? name);
  }
  for (const o of rawObjects.values()) if (o.observable !== undefined) observableIds.set(String(o.observable), o.caption);

  const objects = new Map<string, Shape>();
  const object = (name: string): Shape | undefined => {
    const cached = objects.get(name);
    if (cached) return cached;
    const raw = rawObjects.get(name);
    if (!raw) return undefined;
    const { chain: _chain, ...shape } = compileShape(raw, rawObjects);
    if (name === 'observable') {
      const typeId = shape.attributes.get('type_id');
      if (typeId?.enum) for (const [k, v] of observableIds) if (!typeId.enum.has(k)) typeId.enum.set(k, v);
    }
    objects.set(name, shape);
    return shape;
  };

  const classes = new Map<number, EventClass>();
  const classByName = new Map<string, EventClass>();
  for (const raw of rawEvents.values()) {
    if (raw.uid === undefined && raw.name !== 'base_event') continue; // category parents are not classes
    const { chain, ...shape } = compileShape(raw, rawEvents);
    const categoryName = [...chain].reverse().find((c) => c.category)?.category ?? 'other';
    const category = categories.attributes[categoryName];
    const categoryUid = category?.uid ?? 0;
    const classUid = raw.name === 'base_event' ? 0 : categoryUid * 1000 + (raw.uid ?? 0);
    const eventProfiles = [...new Set(chain.flatMap((c) => c.profiles ?? []))];
    // base_event's enums hold only its own ids; a class's are computed from
    // its uid and its category's.
    const classId = shape.attributes.get('class_uid');
    if (classId) classId.enum = new Map([[String(classUid), raw.caption]]);
    const categoryId = shape.attributes.get('category_uid');
    if (categoryId) categoryId.enum = new Map([[String(categoryUid), category?.caption ?? 'Uncategorized']]);
    const cls: EventClass = { ...shape, classUid, categoryUid, categoryCaption: category?.caption ?? 'Uncategorized', profiles: eventProfiles };
    classes.set(classUid, cls);
    classByName.set(raw.name, cls);
  }

  const scalar = (name: string): ScalarType | undefined => {
    const chain: ScalarType['chain'] = [];
    let current: string | undefined = name;
    while (current) {
      const t: RawType | undefined = dictionary.types.attributes[current];
      if (!t) return undefined;
      chain.push({ ...t, name: current });
      current = t.type;
    }
    return { name, chain };
  };

  return { version, classes, classByName, object, scalar, profileNames: new Set(profiles.keys()) };
}

let cached: OcsfSchema | undefined;
export function ocsfSchema(): OcsfSchema {
  cached ??= loadOcsfSchema();
  return cached;
}
