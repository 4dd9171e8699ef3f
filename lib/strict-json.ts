// JSON.parse keeps the last of two equal keys, so `{"human":"alice","human":"mallory"}`
// would read differently in a parser that keeps the first: a signed event must
// mean one thing. This scanner refuses duplicate keys (compared after
// unescaping, so "a" and "\u0061" are equal) and nesting beyond a bound (the
// recursion is bounded by it, so a hostile payload cannot exhaust the stack),
// then lets JSON.parse build the value.

export type StrictJson =
  | { ok: true; value: unknown }
  | { ok: false; fault: 'duplicate_key' | 'too_deep' | 'invalid'; detail: string };

class Fault extends Error {
  constructor(
    readonly fault: 'duplicate_key' | 'too_deep' | 'invalid',
    detail: string,
  ) {
    super(detail);
  }
}

const LITERAL = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;

export function parseStrictJson(text: string, maxDepth = 32): StrictJson {
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const expect = (ch: string) => {
    if (text[i] !== ch) throw new Fault('invalid', `expected '${ch}' at ${i}`);
    i++;
  };
  const string = (): string => {
    STRING.lastIndex = i;
    const m = STRING.exec(text);
    if (!m) throw new Fault('invalid', `bad string at ${i}`);
    i += m[0].length;
    return m[0];
  };
  const value = (depth: number): void => {
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      if (depth >= maxDepth) throw new Fault('too_deep', `nesting deeper than ${maxDepth}`);
      i++;
      ws();
      const close = c === '{' ? '}' : ']';
      if (text[i] === close) {
        i++;
        return;
      }
      const keys = new Set<string>();
      for (;;) {
        if (c === '{') {
          ws();
          const key = JSON.parse(string()) as string;
          if (keys.has(key)) throw new Fault('duplicate_key', `duplicate key ${JSON.stringify(key.slice(0, 64))}`);
          keys.add(key);
          ws();
          expect(':');
        }
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        expect(close);
        return;
      }
    }
    if (c === '"') {
      string();
      return;
    }
    LITERAL.lastIndex = i;
    const m = LITERAL.exec(text);
    if (!m) throw new Fault('invalid', `unexpected character at ${i}`);
    i += m[0].length;
  };

  try {
    value(0);
    ws();
    if (i !== text.length) throw new Fault('invalid', `trailing data at ${i}`);
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    if (err instanceof Fault) return { ok: false, fault: err.fault, detail: err.message };
    return { ok: false, fault: 'invalid', detail: (err as Error).message };
  }
}
