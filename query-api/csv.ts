// CSV for exports: RFC 4180 quoting, arrays and maps as JSON, and a leading
// quote on cells a spreadsheet would run as a formula.
const FORMULA = /^[=+\-@\t\r]/;

function cell(value: unknown): string {
  let text = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (FORMULA.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: unknown[]): string {
  return `${values.map(cell).join(',')}\r\n`;
}
