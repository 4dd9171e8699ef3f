// Calls to the query API with the caller's credential. Errors arrive in the
// API's one shape, { error: { code, message, retriable } }, and are thrown as
// ApiError; a 401 signs the console out, so the login form shows again.
import { credential, setCredential } from './auth';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function request(path: string, init: RequestInit = {}): Promise<Response> {
  const c = credential();
  const headers = new Headers(init.headers);
  if (c) headers.set('authorization', `Bearer ${c.token}`);
  const response = await fetch(path, { ...init, headers });
  if (response.ok) return response;
  let code = 'HTTP_' + response.status;
  let message = response.statusText;
  try {
    const body = (await response.json()) as { error?: { code: string; message: string } };
    if (body.error) ({ code, message } = body.error);
  } catch {
    /* not the error shape */
  }
  if (response.status === 401) setCredential(null, message);
  throw new ApiError(response.status, code, message);
}

export async function getJson<T>(path: string): Promise<T> {
  return (await request(path)).json() as Promise<T>;
}

export async function sendJson<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  return (await request(path, init)).json() as Promise<T>;
}

export async function getBytes(path: string): Promise<{ bytes: Uint8Array<ArrayBuffer>; type: string }> {
  const response = await request(path);
  return { bytes: new Uint8Array(await response.arrayBuffer()), type: response.headers.get('content-type') ?? 'application/octet-stream' };
}

// Query string from the non-empty values of an object (arrays repeat the key).
export function qs(params: Record<string, string | string[] | number | undefined | null>): string {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    for (const one of Array.isArray(v) ? v : [v]) if (one !== '') out.append(k, String(one));
  }
  const s = out.toString();
  return s ? `?${s}` : '';
}

// Saves bytes as a file the browser downloads.
export function download(name: string, data: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
