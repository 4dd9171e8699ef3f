// Secrets a client may put anywhere never reach a log or a table. Two rules,
// applied wherever request data is recorded (the access log, the request log)
// and to the free-text fields of stored events (attrs, user_agent):
// - a query parameter or header whose name says it holds a secret (token,
//   secret, password, api key, signature, authorization, cookie...) keeps its
//   name and loses its value;
// - a value shaped like a JWT or JWS (three base64url parts, the first a JSON
//   header: `eyJ...`) is replaced wherever it appears, whatever it is called.
export const REDACTED = '[redacted]';
export const REDACTED_JWT = '[redacted-jwt]';

const SECRET_NAME = /token|secret|passw(or)?d|^pwd$|api[-_]?key|^auth$|authori[sz]ation|credential|signature|^sig$|cookie|private[-_]?key|jwt|bearer/i;
// A JOSE compact serialization: base64url of '{"' opens the header. The
// payload and signature parts may be empty (unsecured or detached).
const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;

export const isSecretName = (name: string): boolean => SECRET_NAME.test(name);

export function redactJwts(text: string): string {
  return text.includes('eyJ') ? text.replace(JWT_SHAPE, REDACTED_JWT) : text;
}

// Values of secret-named keys replaced, JWT-shaped strings replaced anywhere
// (nested objects and arrays included). Returns a copy.
export function redactValues(value: unknown, name = ''): unknown {
  if (name !== '' && isSecretName(name) && value !== undefined && value !== null && value !== '') return REDACTED;
  if (typeof value === 'string') return redactJwts(value);
  if (Array.isArray(value)) return value.map((v) => redactValues(v, name));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redactValues(v, k)]));
  }
  return value;
}

// JWT-shaped strings replaced at any depth, names untouched. Returns a copy.
export function redactJwtsDeep(value: unknown): unknown {
  if (typeof value === 'string') return redactJwts(value);
  if (Array.isArray(value)) return value.map(redactJwtsDeep);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [redactJwts(k), redactJwtsDeep(v)]));
  }
  return value;
}

// A request URL with secret-named query parameters and JWT-shaped parts
// redacted. The URL may be malformed (it is logged because it was refused).
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const pathPart = redactJwts(q < 0 ? url : url.slice(0, q));
  if (q < 0) return pathPart;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return redactJwts(pair);
      let name = pair.slice(0, eq);
      try {
        name = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        /* a malformed escape: judge the raw name */
      }
      return isSecretName(name) ? `${pair.slice(0, eq)}=${REDACTED}` : redactJwts(pair);
    })
    .join('&');
  return `${pathPart}?${query}`;
}
