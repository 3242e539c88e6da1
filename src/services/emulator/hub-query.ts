/**
 * The IoT Hub query language, as far as a deprovisioning tool meets it: `SELECT *` or
 * `SELECT COUNT() AS name` FROM `devices` or `devices.modules`, with a WHERE of comparisons
 * (`=`, `!=`, `<>`, `<`, `>`, `<=`, `>=`), `IN [...]`, `NIN [...]`, `IS_DEFINED(f)`, `STARTS_WITH(f, 's')`,
 * `ENDS_WITH(f, 's')`, `ARRAY_CONTAINS(f, v)`, joined by AND / OR / NOT and parentheses, over dotted
 * fields of the twin (`tags.site`, `properties.reported.fw`, `capabilities.iotEdge`). A field that is
 * not defined makes a comparison false, as on IoT Hub. Anything else is a 400 in the hub's error shape
 * that says what is supported: never a silent wrong answer.
 */
import { ServiceError } from './errors.js';

type Twin = Record<string, unknown>;
type Condition = (twin: Twin) => boolean;

export interface DeviceQuery {
  count?: string;
  from: 'devices' | 'devices.modules';
  /** Empty: every row. */
  where: Condition[];
}

const UNSUPPORTED =
  'this emulator supports SELECT * or SELECT COUNT() AS n FROM devices or devices.modules, with WHERE ' +
  'comparisons (=, !=, <, >, <=, >=), IN, NIN, IS_DEFINED, STARTS_WITH, ENDS_WITH, ARRAY_CONTAINS, ' +
  'AND, OR, NOT and parentheses';

type Token = { kind: 'word' | 'string' | 'number' | 'punct'; text: string; value?: string | number };

const bad = (what: string) => new ServiceError('badRequest', `${what}: ${UNSUPPORTED}`);

/** Words, quoted strings ('it''s' or "it's"), numbers and punctuation: a quoted comma or AND is text. */
function tokens(text: string): Token[] {
  const out: Token[] = [];
  const re =
    /\s*(?:'((?:[^']|'')*)'|"([^"]*)"|(-?\d+(?:\.\d+)?)(?![\w$.])|([\w$.]+)|(!=|<>|<=|>=|=|<|>|\[|\]|,|\(|\)))/y;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) throw bad(`unsupported text "${text.slice(at).trim()}"`);
    at = re.lastIndex;
    if (m[1] !== undefined) out.push({ kind: 'string', text: m[0], value: m[1].replace(/''/g, "'") });
    else if (m[2] !== undefined) out.push({ kind: 'string', text: m[0], value: m[2] });
    else if (m[3] !== undefined) out.push({ kind: 'number', text: m[3], value: Number(m[3]) });
    else if (m[4] !== undefined) out.push({ kind: 'word', text: m[4] });
    else out.push({ kind: 'punct', text: m[5] });
  }
  return out;
}

type Value = string | number | boolean | null;

/** A dotted field of the twin; `devices.` / `devices.modules.` prefixes name the row itself. */
function fieldReader(path: string): (twin: Twin) => unknown {
  const parts = path
    .replace(/^devices\.modules\./i, '')
    .replace(/^devices\./i, '')
    .split('.');
  return (twin) => {
    let v: unknown = twin;
    for (const p of parts) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
      v = (v as Record<string, unknown>)[p];
    }
    return v;
  };
}

function compare(op: string, a: unknown, b: Value): boolean {
  if (a === undefined) return false;
  if (op === '=') return a === b;
  if (op === '!=' || op === '<>') return a !== b;
  // Ordering only between values of one type (numbers or strings), as the hub compares them.
  if (typeof a !== typeof b || (typeof a !== 'number' && typeof a !== 'string')) return false;
  const x = a as number | string;
  const y = b as number | string;
  if (op === '<') return x < y;
  if (op === '>') return x > y;
  if (op === '<=') return x <= y;
  return x >= y;
}

class Parser {
  private i = 0;
  constructor(
    private readonly ts: Token[],
    private readonly text: string,
  ) {}

  private peek(): Token | undefined {
    return this.ts[this.i];
  }
  private isWord(word: string): boolean {
    const t = this.peek();
    return t?.kind === 'word' && t.text.toUpperCase() === word;
  }
  private expect(text: string): void {
    if (this.peek()?.text !== text) this.fail();
    this.i++;
  }
  private fail(): never {
    throw bad(`unsupported condition "${this.text.trim()}"`);
  }

  parse(): Condition {
    const c = this.or();
    if (this.i < this.ts.length) this.fail();
    return c;
  }
  private or(): Condition {
    const parts = [this.and()];
    while (this.isWord('OR')) {
      this.i++;
      parts.push(this.and());
    }
    return parts.length === 1 ? parts[0] : (t) => parts.some((p) => p(t));
  }
  private and(): Condition {
    const parts = [this.not()];
    while (this.isWord('AND')) {
      this.i++;
      parts.push(this.not());
    }
    return parts.length === 1 ? parts[0] : (t) => parts.every((p) => p(t));
  }
  private not(): Condition {
    if (this.isWord('NOT')) {
      this.i++;
      const inner = this.not();
      return (t) => !inner(t);
    }
    return this.primary();
  }
  private literal(): Value {
    const t = this.ts[this.i++];
    if (t?.kind === 'string' || t?.kind === 'number') return t.value as string | number;
    if (t?.kind === 'word' && /^(true|false)$/i.test(t.text)) return t.text.toLowerCase() === 'true';
    if (t?.kind === 'word' && /^null$/i.test(t.text)) return null;
    throw bad(`unsupported value ${t?.text ?? '(none)'}`);
  }
  private list(): Value[] {
    this.expect('[');
    const values: Value[] = [];
    while (this.peek()?.text !== ']') {
      values.push(this.literal());
      if (this.peek()?.text === ',') this.i++;
      else if (this.peek()?.text !== ']') this.fail();
    }
    this.i++;
    return values;
  }
  private field(): (twin: Twin) => unknown {
    const t = this.ts[this.i++];
    if (t?.kind !== 'word') this.fail();
    return fieldReader(t.text);
  }
  private primary(): Condition {
    const t = this.peek();
    if (t?.text === '(') {
      this.i++;
      const inner = this.or();
      this.expect(')');
      return inner;
    }
    if (t?.kind !== 'word') this.fail();
    const name = t.text.toUpperCase();
    if (
      ['IS_DEFINED', 'STARTS_WITH', 'ENDS_WITH', 'ARRAY_CONTAINS'].includes(name) &&
      this.ts[this.i + 1]?.text === '('
    ) {
      this.i += 2;
      const read = this.field();
      let arg: Value = null;
      if (name !== 'IS_DEFINED') {
        this.expect(',');
        arg = this.literal();
      }
      this.expect(')');
      if (name === 'IS_DEFINED') return (tw) => read(tw) !== undefined;
      if (name === 'ARRAY_CONTAINS')
        return (tw) => Array.isArray(read(tw)) && (read(tw) as unknown[]).includes(arg);
      if (typeof arg !== 'string') this.fail();
      const s = arg;
      return name === 'STARTS_WITH'
        ? (tw) => typeof read(tw) === 'string' && (read(tw) as string).startsWith(s)
        : (tw) => typeof read(tw) === 'string' && (read(tw) as string).endsWith(s);
    }
    const read = this.field();
    const op = this.peek();
    if (op?.kind === 'word' && ['IN', 'NIN'].includes(op.text.toUpperCase())) {
      this.i++;
      const values = this.list();
      const negate = op.text.toUpperCase() === 'NIN';
      return (tw) => {
        const v = read(tw);
        if (v === undefined) return false;
        return values.includes(v as Value) !== negate;
      };
    }
    if (op?.kind === 'punct' && ['=', '!=', '<>', '<', '>', '<=', '>='].includes(op.text)) {
      this.i++;
      const value = this.literal();
      return (tw) => compare(op.text, read(tw), value);
    }
    return this.fail();
  }
}

export function parseDeviceQuery(sql: unknown): DeviceQuery {
  if (typeof sql !== 'string')
    throw new ServiceError('badRequest', 'the body must be {"query": "SELECT * FROM devices"}');
  const m =
    /^\s*SELECT\s+(\*|COUNT\(\)\s+AS\s+(\w+))\s+FROM\s+(devices\.modules|devices)(?:\s+WHERE\s+(.+?))?\s*$/is.exec(
      sql,
    );
  if (!m) throw bad('unsupported query');
  const from = m[3].toLowerCase() === 'devices.modules' ? 'devices.modules' : 'devices';
  const where = m[4] ? [new Parser(tokens(m[4]), m[4]).parse()] : [];
  return { count: m[2], from, where };
}

/**
 * A DPS enrollment query: `SELECT *` [FROM enrollments (or enrollmentGroups)], with an optional WHERE
 * in the same condition language over the enrollment's JSON (`provisioningStatus = 'disabled'`,
 * `attestation.type = 'x509'`). Anything else is refused: a filter is never ignored.
 */
export function parseEnrollmentQuery(
  sql: unknown,
  from: 'enrollments' | 'enrollmentGroups',
): Condition | undefined {
  // DPS takes `SELECT *` alone too (what the tool and the SDK samples send).
  const m = /^\s*SELECT\s+\*(?:\s+FROM\s+(\w+))?(?:\s+WHERE\s+(.+?))?\s*$/is.exec(String(sql ?? ''));
  if (!m || (m[1] !== undefined && m[1].toLowerCase() !== from.toLowerCase())) {
    throw new ServiceError(
      'badRequest',
      `unsupported query: this emulator supports SELECT * FROM ${from} with an optional WHERE of ` +
        'comparisons, IN, IS_DEFINED, STARTS_WITH, AND, OR, NOT',
    );
  }
  return m[2] ? new Parser(tokens(m[2]), m[2]).parse() : undefined;
}
