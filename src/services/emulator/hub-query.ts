/**
 * The small part of the IoT Hub query language the tool needs: `SELECT * FROM devices` and
 * `SELECT COUNT() AS name FROM devices`, each with an optional WHERE of `field = 'v'`, `field != 'v'`
 * or `field IN ['a', 'b']` joined by AND, over the twin's top-level fields. Anything else is a 400
 * that says what is supported.
 */
import { ServiceError } from './errors.js';

export interface DeviceQuery {
  count?: string;
  where: ((twin: Record<string, unknown>) => boolean)[];
}

const UNSUPPORTED =
  'this emulator supports SELECT * FROM devices and SELECT COUNT() AS n FROM devices, ' +
  "with WHERE field = 'v', " +
  "field != 'v' or field IN ['a','b'] joined by AND";

function literal(text: string): string | number | boolean {
  const t = text.trim();
  const quoted = /^'((?:[^']|'')*)'$/.exec(t) ?? /^"([^"]*)"$/.exec(t);
  if (quoted) return quoted[1].replace(/''/g, "'");
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (/^(true|false)$/i.test(t)) return t.toLowerCase() === 'true';
  throw new ServiceError('badRequest', `unsupported value ${t}: ${UNSUPPORTED}`);
}

function condition(text: string): (twin: Record<string, unknown>) => boolean {
  const inList = /^([\w$.]+)\s+IN\s+\[(.*)\]$/i.exec(text.trim());
  if (inList) {
    const values = inList[2]
      .split(',')
      .filter((v) => v.trim())
      .map(literal);
    const field = inList[1];
    return (twin) => values.includes(twin[field] as never);
  }
  const cmp = /^([\w$.]+)\s*(=|!=|<>)\s*(.+)$/.exec(text.trim());
  if (!cmp) throw new ServiceError('badRequest', `unsupported condition "${text.trim()}": ${UNSUPPORTED}`);
  const [, field, op, raw] = cmp;
  const value = literal(raw);
  return op === '=' ? (twin) => twin[field] === value : (twin) => twin[field] !== value;
}

export function parseDeviceQuery(sql: unknown): DeviceQuery {
  if (typeof sql !== 'string')
    throw new ServiceError('badRequest', 'the body must be {"query": "SELECT * FROM devices"}');
  const m = /^\s*SELECT\s+(\*|COUNT\(\)\s+AS\s+(\w+))\s+FROM\s+devices(?:\s+WHERE\s+(.+?))?\s*$/is.exec(sql);
  if (!m) throw new ServiceError('badRequest', `unsupported query: ${UNSUPPORTED}`);
  const where = m[3] ? m[3].split(/\s+AND\s+/i).map(condition) : [];
  return { count: m[2], where };
}
