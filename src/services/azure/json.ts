/**
 * JSON from the wire (the SDKs type their answers loosely or not at all): an object whose fields are
 * unknown until a guard reads them. Used instead of `any` at the SDK boundary.
 */
export type Json = Record<string, unknown>;

/** The value as a JSON object, or undefined when it is not one. */
export const asJson = (value: unknown): Json | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;

/** The object at a path of keys, or undefined as soon as one step is not an object. */
export const at = (value: unknown, ...keys: string[]): Json | undefined => {
  let cur = asJson(value);
  for (const key of keys) cur = asJson(cur?.[key]);
  return cur;
};

/**
 * A body the SDK sends as it is: the adapters build it from what the service sent back (unknown fields
 * kept, so a write does not drop them), and the SDK types it as its own class. The one cast at the boundary.
 */
export const sdkBody = <T>(body: Json | Json[] | { mode: string; enrollments: Json[] }): T =>
  body as unknown as T;

/**
 * The per-item answer of a bulk call (DPS or hub) that the service refused as a whole: the SDK leaves it
 * as text in the error's body. Undefined when the text is not one.
 */
export function bulkResultOf(raw: unknown): Json | undefined {
  if (typeof raw !== 'string') return undefined;
  try {
    const json = asJson(JSON.parse(raw));
    return json && Array.isArray(json.errors) && 'isSuccessful' in json ? json : undefined;
  } catch {
    return undefined;
  }
}
