// DNS rebinding protection (MCP transports, "Security Warning"): a web page
// whose name an attacker points at this proxy's address makes the browser send
// it requests carrying the attacker's Host and Origin. Only the names the
// proxy is really reached by are accepted: its listen address (the loopback
// names when it listens on loopback or on every address), the --resource
// origin, and whatever is configured on top.

export interface OriginGuardOptions {
  // The bound address: host as listened on, and the real port (after port 0).
  listenHost: string;
  port: number;
  resource?: string;
  // Added to the defaults; '*' accepts any value of that header.
  allowedHosts: string[];
  allowedOrigins: string[];
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const ANY = new Set(['0.0.0.0', '::', '']);

const bracketed = (host: string) => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);

// A host[:port] as a URL writes it for either scheme (lower case, IPv6
// bracketed, that scheme's default port dropped): a request to the default
// port may name it or not.
function forms(value: string): string[] {
  if (!/^[A-Za-z0-9.\-[\]:]+$/.test(value)) return [];
  try {
    return [new URL(`http://${value}`).host, new URL(`https://${value}`).host];
  } catch {
    return [];
  }
}

export interface OriginGuard {
  readonly allowedHosts: readonly string[];
  readonly allowedOrigins: readonly string[];
  // Undefined: accepted; else why not.
  checkHost(host: string | undefined): string | undefined;
  // A request without Origin (any client that is not a browser) is accepted.
  checkOrigin(origin: string | undefined): string | undefined;
}

export function originGuard(options: OriginGuardOptions): OriginGuard {
  const names = LOOPBACK.has(options.listenHost) || ANY.has(options.listenHost) ? [...LOOPBACK] : [options.listenHost];
  const listened = names.map((name) => `${bracketed(name)}:${options.port}`);
  const allowedHosts = [...listened];
  const allowedOrigins = listened.map((host) => `http://${host}`);
  if (options.resource) {
    const resource = new URL(options.resource);
    allowedHosts.push(resource.host);
    allowedOrigins.push(resource.origin);
  }
  const anyHost = options.allowedHosts.includes('*');
  const anyOrigin = options.allowedOrigins.includes('*');
  allowedHosts.push(...options.allowedHosts.filter((host) => host !== '*'));
  allowedOrigins.push(...options.allowedOrigins.filter((origin) => origin !== '*'));
  const hosts = new Set(allowedHosts.flatMap(forms));
  const origins = new Set(allowedOrigins.map((origin) => new URL(origin).origin));

  return {
    allowedHosts: anyHost ? ['*'] : [...new Set(allowedHosts)],
    allowedOrigins: anyOrigin ? ['*'] : [...origins],
    checkHost(host) {
      if (anyHost) return undefined;
      if (!host) return 'no Host header';
      // The Host of a request to the default port omits it: either scheme's form counts.
      if (forms(host).some((form) => hosts.has(form))) return undefined;
      return `Host ${JSON.stringify(host.slice(0, 256))} is not allowed`;
    },
    checkOrigin(origin) {
      if (anyOrigin || origin === undefined) return undefined;
      let normal: string | undefined;
      try {
        normal = new URL(origin).origin;
      } catch {
        normal = undefined;
      }
      // "null" (a sandboxed or file: page) parses to the opaque origin "null": never allowed.
      if (normal && normal !== 'null' && origins.has(normal)) return undefined;
      return `Origin ${JSON.stringify(origin.slice(0, 256))} is not allowed`;
    },
  };
}
