// Checks one OCSF event against the pinned definitions: the class named by
// class_uid, its classification ids agreeing with each other, every attribute
// known to its class or object (and to an applied profile when it comes from
// one), values of the dictionary's types (string_t ... uuid_t, objects,
// arrays), enum values and their captions, required attributes and the
// at_least_one / just_one constraints. Unknown attributes are refused.
import { ocsfSchema, type Attribute, type EventClass, type OcsfSchema, type Shape } from './definitions.js';

export interface OcsfProblem {
  path: string;
  message: string;
}

export interface OcsfValidation {
  valid: boolean;
  errors: OcsfProblem[];
  // deprecated attributes used: allowed by the schema, worth knowing
  warnings: OcsfProblem[];
}

const INT32 = [-(2 ** 31), 2 ** 31 - 1] as const;
const CLASSIFICATION = new Set(['class_uid', 'category_uid', 'type_uid', 'class_name', 'category_name', 'type_name']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const present = (v: unknown) => v !== undefined && v !== null;
const describe = (v: unknown) => (Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v);

class Checker {
  readonly errors: OcsfProblem[] = [];
  readonly warnings: OcsfProblem[] = [];
  private readonly regexes = new Map<string, RegExp>();

  constructor(
    private readonly schema: OcsfSchema,
    private readonly profiles: Set<string>,
  ) {}

  fail(path: string, message: string): void {
    this.errors.push({ path: path || '(event)', message });
  }

  shape(shape: Shape, value: Record<string, unknown>, path: string, skip?: Set<string>): void {
    for (const [key, v] of Object.entries(value)) {
      const at = path ? `${path}.${key}` : key;
      const attr = shape.attributes.get(key);
      if (!attr) {
        this.fail(at, `unknown attribute: ${shape.name} has no ${key}`);
        continue;
      }
      if (attr.profile && !this.profiles.has(attr.profile)) {
        this.fail(at, `${key} belongs to the ${attr.profile} profile, which metadata.profiles does not apply`);
        continue;
      }
      if (attr.deprecated) this.warnings.push({ path: at, message: `${key} is deprecated` });
      if (skip?.has(key)) continue;
      this.attribute(attr, v, at);
    }
    for (const attr of shape.attributes.values()) {
      if (attr.requirement !== 'required' || (attr.profile && !this.profiles.has(attr.profile))) continue;
      if (!present(value[attr.name])) this.fail(path ? `${path}.${attr.name}` : attr.name, `required by ${shape.name}, missing`);
    }
    const { at_least_one: atLeastOne, just_one: justOne } = shape.constraints;
    if (atLeastOne && !atLeastOne.some((k) => present(value[k]))) {
      this.fail(path, `${shape.name} needs at least one of ${atLeastOne.join(', ')}`);
    }
    if (justOne && justOne.filter((k) => present(value[k])).length !== 1) {
      this.fail(path, `${shape.name} needs exactly one of ${justOne.join(', ')}`);
    }
    this.siblings(shape, value, path);
  }

  // An enum id and its caption attribute (severity_id / severity): the caption
  // must be the enum's, except for 99 (Other) where it carries the source's own
  // label and so must be there.
  private siblings(shape: Shape, value: Record<string, unknown>, path: string): void {
    for (const attr of shape.attributes.values()) {
      if (!attr.sibling || !attr.enum || !Number.isInteger(value[attr.name])) continue;
      if (CLASSIFICATION.has(attr.sibling)) continue;
      const caption = attr.enum.get(String(value[attr.name]));
      const label = value[attr.sibling];
      const at = path ? `${path}.${attr.sibling}` : attr.sibling;
      if (value[attr.name] === 99) {
        if (typeof label !== 'string' || label === '') this.fail(at, `${attr.name} is 99 (Other): ${attr.sibling} must name it`);
      } else if (present(label) && caption !== undefined && label !== caption) {
        this.fail(at, `must be "${caption}", the caption of ${attr.name} ${String(value[attr.name])}`);
      }
    }
  }

  attribute(attr: Attribute, v: unknown, path: string): void {
    if (v === null || v === undefined) {
      this.fail(path, 'null: omit an attribute that has no value');
      return;
    }
    if (attr.isArray) {
      if (!Array.isArray(v)) return this.fail(path, `must be an array of ${attr.type}, got ${describe(v)}`);
      v.forEach((item, i) => this.single(attr, item, `${path}[${i}]`));
      return;
    }
    this.single(attr, v, path);
  }

  private single(attr: Attribute, v: unknown, path: string): void {
    if (attr.type.endsWith('_t')) {
      if (!this.scalar(attr.type, v, path)) return;
      if (attr.enum && !attr.enum.has(String(v))) {
        this.fail(path, `${String(v)} is not a value of ${attr.name} (${[...attr.enum.keys()].join(', ')})`);
      }
      return;
    }
    if (!isObject(v)) return this.fail(path, `must be a ${attr.type} object, got ${describe(v)}`);
    if (attr.type === 'object') return; // the schema's open object (e.g. unmapped)
    const shape = this.schema.object(attr.type);
    if (!shape) return this.fail(path, `object type ${attr.type} is not in the pinned definitions`);
    this.shape(shape, v, path);
  }

  // true when v has the type's primitive form (so enum checks make sense)
  private scalar(typeName: string, v: unknown, path: string): boolean {
    const type = this.schema.scalar(typeName);
    if (!type) {
      this.fail(path, `type ${typeName} is not in the dictionary`);
      return false;
    }
    const primitive = type.chain[type.chain.length - 1]!.name;
    const ok = (() => {
      switch (primitive) {
        case 'string_t':
          return typeof v === 'string';
        case 'integer_t':
          return Number.isInteger(v) && (v as number) >= INT32[0] && (v as number) <= INT32[1];
        case 'long_t':
          return Number.isSafeInteger(v);
        case 'float_t':
          return typeof v === 'number' && Number.isFinite(v);
        case 'boolean_t':
          return typeof v === 'boolean';
        case 'json_t':
          return true;
        default:
          return false;
      }
    })();
    if (!ok) {
      this.fail(path, `must be ${typeName} (${primitive}), got ${JSON.stringify(v)?.slice(0, 60) ?? describe(v)}`);
      return false;
    }
    for (const t of type.chain) {
      if (t.regex !== undefined && !this.regex(t.regex).test(v as string)) {
        this.fail(path, `${JSON.stringify(v)} does not match ${t.name}`);
        return false;
      }
      if (t.max_len !== undefined && (v as string).length > t.max_len) {
        this.fail(path, `longer than ${t.max_len}, the maximum of ${t.name}`);
        return false;
      }
      if (t.range && ((v as number) < t.range[0] || (v as number) > t.range[1])) {
        this.fail(path, `${String(v)} is outside ${t.name}'s range ${t.range[0]}..${t.range[1]}`);
        return false;
      }
      if (t.values && !t.values.includes(v)) {
        this.fail(path, `${String(v)} is not one of ${t.name}'s values`);
        return false;
      }
    }
    return true;
  }

  private regex(source: string): RegExp {
    let re = this.regexes.get(source);
    if (!re) {
      re = new RegExp(source);
      this.regexes.set(source, re);
    }
    return re;
  }
}

function classification(cls: EventClass, event: Record<string, unknown>, check: Checker): void {
  if (event.category_uid !== cls.categoryUid) {
    check.fail('category_uid', `class ${cls.classUid} (${cls.caption}) is in category ${cls.categoryUid}, not ${String(event.category_uid)}`);
  }
  const activity = event.activity_id;
  if (Number.isInteger(activity) && event.type_uid !== cls.classUid * 100 + (activity as number)) {
    check.fail('type_uid', `must be class_uid * 100 + activity_id = ${cls.classUid * 100 + (activity as number)}`);
  }
  const expect = (key: string, caption: string | undefined) => {
    if (present(event[key]) && caption !== undefined && event[key] !== caption) check.fail(key, `must be "${caption}"`);
  };
  expect('class_name', cls.caption);
  expect('category_name', cls.categoryCaption);
  const activityCaption = activity === 99 ? (event.activity_name as string | undefined) : cls.attributes.get('activity_id')?.enum?.get(String(activity));
  expect('type_name', activityCaption === undefined ? undefined : `${cls.caption}: ${activityCaption}`);
}

export function validateOcsf(event: unknown, schema: OcsfSchema = ocsfSchema()): OcsfValidation {
  const result = (check: Checker): OcsfValidation => ({ valid: check.errors.length === 0, errors: check.errors, warnings: check.warnings });
  if (!isObject(event)) {
    const check = new Checker(schema, new Set());
    check.fail('', `an OCSF event is a JSON object, got ${describe(event)}`);
    return result(check);
  }
  const metadata = isObject(event.metadata) ? event.metadata : {};
  const listed = Array.isArray(metadata.profiles) ? metadata.profiles.filter((p): p is string => typeof p === 'string') : [];
  const check = new Checker(schema, new Set(listed));
  const cls = Number.isInteger(event.class_uid) ? schema.classes.get(event.class_uid as number) : undefined;
  if (!cls) {
    check.fail('class_uid', `${JSON.stringify(event.class_uid)} is not a class in the pinned definitions (${[...schema.classes.keys()].join(', ')})`);
    return result(check);
  }
  for (const profile of listed) {
    if (!cls.profiles.includes(profile)) check.fail('metadata.profiles', `${cls.caption} does not take the ${profile} profile`);
  }
  if (cls.deprecated) check.warnings.push({ path: 'class_uid', message: `${cls.caption} is deprecated` });
  check.shape(cls, event, '');
  classification(cls, event, check);
  return result(check);
}
