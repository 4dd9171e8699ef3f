// Exports of what a view shows, as the API's own formats: CSV (header of the
// union of the row keys, RFC 4180 quoting) or NDJSON.
export function toCsv(rows: Record<string, unknown>[]): string {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [keys.join(','), ...rows.map((r) => keys.map((k) => cell(r[k])).join(','))].join('\r\n') + '\r\n';
}

export const toNdjson = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
