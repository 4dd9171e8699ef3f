// ClickHouse parses 'YYYY-MM-DD HH:MM:SS.mmm' (UTC) for DateTime64(3) in every
// input format, so all times cross into storage in that one shape.
export function toClickHouseTime(at: Date | number | string): string {
  const date = at instanceof Date ? at : new Date(at);
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

// And back: rows come out in the same shape, API answers speak RFC 3339.
export function fromClickHouseTime(value: string): string {
  return `${value.replace(' ', 'T')}Z`;
}

// A row's time as RFC 3339, whether the row was read back (ClickHouse's
// shape) or built in memory or by the API (already RFC 3339).
export function rowTime(value: string): string {
  return value.includes('T') ? value : fromClickHouseTime(value);
}
