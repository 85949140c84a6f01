// The type guard for a parsed document's mapping (a JSON object, a YAML mapping): an object that is
// neither null nor an array.
export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
