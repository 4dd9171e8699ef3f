// Allowed values of the API's filters, read from its own OpenAPI document so
// the console offers exactly what the API accepts (one source of truth).
import { useEffect, useState } from 'preact/hooks';

type Doc = { paths: Record<string, Record<string, { parameters?: { name: string; schema?: { enum?: string[]; items?: { enum?: string[] }; anyOf?: { enum?: string[]; items?: { enum?: string[] } }[] } }[]; requestBody?: { content: Record<string, { schema: { properties?: Record<string, { enum?: string[] }> } }> } }>> };

let doc: Promise<Doc> | null = null;

export function openapi(): Promise<Doc> {
  doc ??= fetch('/openapi.json').then((r) => r.json() as Promise<Doc>);
  return doc;
}

function enumOf(schema: NonNullable<NonNullable<Doc['paths'][string][string]['parameters']>[number]['schema']> | undefined): string[] {
  if (!schema) return [];
  if (schema.enum) return schema.enum;
  if (schema.items?.enum) return schema.items.enum;
  for (const alt of schema.anyOf ?? []) {
    const found = alt.enum ?? alt.items?.enum;
    if (found) return found;
  }
  return [];
}

export function useEnums(path: string, method = 'get'): Record<string, string[]> {
  const [enums, setEnums] = useState<Record<string, string[]>>({});
  useEffect(() => {
    void openapi().then((d) => {
      const op = d.paths[path]?.[method];
      const out: Record<string, string[]> = {};
      for (const p of op?.parameters ?? []) out[p.name] = enumOf(p.schema);
      for (const [name, prop] of Object.entries(op?.requestBody?.content['application/json']?.schema.properties ?? {})) if (prop.enum) out[name] = prop.enum;
      setEnums(out);
    });
  }, [path, method]);
  return enums;
}
