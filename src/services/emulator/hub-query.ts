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

type Token = { kind: 'word' | 'string' | 'number' | 'punct'; text: string; value?: string | number };

/** Words, quoted strings ('it''s' or "it's"), numbers and punctuation: a quoted comma or AND is text. */
function tokens(text: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:'((?:[^']|'')*)'|"([^"]*)"|(-?\d+(?:\.\d+)?)(?![\w$.])|([\w$.]+)|(!=|<>|=|\[|\]|,))/y;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) throw new ServiceError('badRequest', `unsupported text "${text.slice(at).trim()}": ${UNSUPPORTED}`);
    at = re.lastIndex;
    if (m[1] !== undefined) out.push({ kind: 'string', text: m[0], value: m[1].replace(/''/g, "'") });
    else if (m[2] !== undefined) out.push({ kind: 'string', text: m[0], value: m[2] });
    else if (m[3] !== undefined) out.push({ kind: 'number', text: m[3], value: Number(m[3]) });
    else if (m[4] !== undefined) out.push({ kind: 'word', text: m[4] });
    else out.push({ kind: 'punct', text: m[5] });
  }
  return out;
}

function literal(t: Token | undefined): string | number | boolean {
  if (t?.kind === 'string' || t?.kind === 'number') return t.value as string | number;
  if (t?.kind === 'word' && /^(true|false)$/i.test(t.text)) return t.text.toLowerCase() === 'true';
  throw new ServiceError('badRequest', `unsupported value ${t?.text ?? '(none)'}: ${UNSUPPORTED}`);
}

type Condition = (twin: Record<string, unknown>) => boolean;

/** `cond [AND cond ...]`, each `field = v`, `field != v` or `field IN [v, ...]`. */
function conditions(text: string): Condition[] {
  const ts = tokens(text);
  const out: Condition[] = [];
  let i = 0;
  const fail = (): never => {
    throw new ServiceError('badRequest', `unsupported condition "${text.trim()}": ${UNSUPPORTED}`);
  };
  for (;;) {
    const field = ts[i++];
    if (field?.kind !== 'word') fail();
    const op = ts[i++];
    if (op?.kind === 'word' && op.text.toUpperCase() === 'IN') {
      if (ts[i++]?.text !== '[') fail();
      const values: unknown[] = [];
      while (ts[i]?.text !== ']') {
        values.push(literal(ts[i++]));
        if (ts[i]?.text === ',') i++;
        else if (ts[i]?.text !== ']') fail();
      }
      i++;
      out.push((twin) => values.includes(twin[field.text]));
    } else if (op?.kind === 'punct' && ['=', '!=', '<>'].includes(op.text)) {
      const value = literal(ts[i++]);
      out.push(op.text === '=' ? (twin) => twin[field.text] === value : (twin) => twin[field.text] !== value);
    } else fail();
    if (i >= ts.length) return out;
    if (ts[i]?.kind !== 'word' || ts[i].text.toUpperCase() !== 'AND') fail();
    i++;
  }
}

export function parseDeviceQuery(sql: unknown): DeviceQuery {
  if (typeof sql !== 'string')
    throw new ServiceError('badRequest', 'the body must be {"query": "SELECT * FROM devices"}');
  const m = /^\s*SELECT\s+(\*|COUNT\(\)\s+AS\s+(\w+))\s+FROM\s+devices(?:\s+WHERE\s+(.+?))?\s*$/is.exec(sql);
  if (!m) throw new ServiceError('badRequest', `unsupported query: ${UNSUPPORTED}`);
  const where = m[3] ? conditions(m[3]) : [];
  return { count: m[2], where };
}
