// The README's reference tables, written from what the code declares so they cannot drift: every
// route of each app from its OpenAPI document (method, path, summary), and every setting from its
// TypeBox schema (name, default, bounds, description). `npm run openapi` rewrites them between
// their markers; a test fails when the committed README differs.
import type { TObject, TSchema } from '@sinclair/typebox';

const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

interface Operation {
  summary?: string;
  security?: Record<string, string[]>[];
}

/** One row per operation: `METHOD /path` and its summary, in the document's order. */
export function endpointTable(document: Record<string, unknown>, options: { authColumn?: boolean } = {}): string {
  const paths = (document.paths ?? {}) as Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
  const rows: string[] = [];
  for (const [route, operations] of Object.entries(paths)) {
    for (const method of METHODS) {
      const op = operations[method];
      if (!op) continue;
      const path = route.replace(/\{(\w+)\}/g, '{$1}');
      const schemes = op.security?.length ? op.security : [{}];
      const auth = schemes.map((s) => Object.keys(s).join('+') || 'none').join(' or ');
      rows.push(`| \`${method.toUpperCase()} ${path}\` | ${options.authColumn ? `${auth} | ` : ''}${cell(op.summary ?? '')} |`);
    }
  }
  return [options.authColumn ? '| endpoint | credentials | |' : '| endpoint | |', options.authColumn ? '| --- | --- | --- |' : '| --- | --- |', ...rows].join('\n');
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

function defaultOf(schema: TSchema): string {
  if (schema.default === undefined) return '—';
  return `\`${typeof schema.default === 'string' ? schema.default || '""' : JSON.stringify(schema.default)}\``;
}

function boundsOf(schema: TSchema): string {
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as TSchema[]).map((s) => `\`${s.const}\``).join(', ');
  const parts: string[] = [];
  if (schema.minimum !== undefined && schema.maximum !== undefined) parts.push(`${schema.minimum}–${schema.maximum}`);
  else if (schema.minimum !== undefined) parts.push(`≥ ${schema.minimum}`);
  else if (schema.maximum !== undefined) parts.push(`≤ ${schema.maximum}`);
  if (schema.minLength === 1) parts.push('not empty');
  else if (schema.minLength !== undefined) parts.push(`at least ${schema.minLength} characters`);
  return parts.join(', ');
}

/** One row per variable of an environment schema: name, default, allowed values, what it does. */
export function settingsTable(schema: TObject): string {
  const rows = Object.entries(schema.properties).map(([name, s]) => {
    const property = s as TSchema;
    const required = !(schema.required ?? []).includes(name) || property.default !== undefined ? '' : ' (required)';
    return `| \`${name}\`${required} | ${defaultOf(property)} | ${boundsOf(property)} | ${cell(property.description ?? '')} |`;
  });
  return ['| variable | default | allowed | |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/**
 * One row per field of a configuration file's schema (sections flattened to dotted paths): the
 * field, the variable that overrides it, default, allowed values, what it does.
 */
export function fileSettingsTable(schema: TObject, variableOf: (fieldPath: string[]) => string): string {
  const rows: string[] = [];
  const visit = (object: TObject, prefix: string[]) => {
    for (const [name, s] of Object.entries(object.properties)) {
      const property = s as TSchema;
      const fieldPath = [...prefix, name];
      if (property.type === 'object') visit(property as TObject, fieldPath);
      else rows.push(`| \`${fieldPath.join('.')}\` | \`${variableOf(fieldPath)}\` | ${property.type === 'array' ? (property.default?.length ? `\`${property.default.join(',')}\`` : '[]') : defaultOf(property)} | ${boundsOf(property)}${property.type === 'array' ? 'a list (the variable: comma-separated)' : ''} | ${cell(property.description ?? '')} |`);
    }
  };
  visit(schema, []);
  return ['| setting | variable | default | allowed | |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

/** The README with each named block between `<!-- name:start -->` and `<!-- name:end -->` replaced. */
export function withTables(readme: string, tables: Record<string, string>): string {
  let out = readme;
  for (const [name, table] of Object.entries(tables)) {
    const start = `<!-- ${name}:start -->`;
    const end = `<!-- ${name}:end -->`;
    const i = out.indexOf(start);
    const j = out.indexOf(end);
    if (i < 0 || j < i) throw new Error(`README.md has no ${start} … ${end} block`);
    out = `${out.slice(0, i + start.length)}\n${table}\n${out.slice(j)}`;
  }
  return out;
}
