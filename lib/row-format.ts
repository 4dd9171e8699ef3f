// Rows as CSV or NDJSON, for exports and reports. CSV: RFC 4180 quoting, a
// header from the first row's keys, arrays and maps as JSON, and a leading
// quote on cells a spreadsheet would run as a formula.
export type RowFormat = 'csv' | 'ndjson';

export const MEDIA_TYPES: Record<RowFormat, string> = { csv: 'text/csv; charset=utf-8', ndjson: 'application/x-ndjson' };

// What a spreadsheet may run as a formula (OWASP CSV injection): a cell that
// begins, after any spaces, with = + - @ | % or their full-width forms, or
// with a tab, CR or LF. Such a cell gets a leading quote.
const FORMULA = /^[\s\u3000]*[=+\-@|%\uFF1D\uFF0B\uFF0D\uFF20\uFF5C\uFF05]|^[\t\r\n]/;

function cell(value: unknown): string {
  let text = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (FORMULA.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const csvLine = (values: unknown[]) => `${values.map(cell).join(',')}\r\n`;

// Returns an encoder: each call turns one row into its text (the first CSV
// row is preceded by the header).
export function rowEncoder(format: RowFormat): (row: Record<string, unknown>) => string {
  if (format === 'ndjson') return (row) => `${JSON.stringify(row)}\n`;
  let header: string[] | undefined;
  return (row) => {
    if (header) return csvLine(header.map((k) => row[k]));
    header = Object.keys(row);
    return csvLine(header) + csvLine(header.map((k) => row[k]));
  };
}
