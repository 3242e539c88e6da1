/**
 * Injected faults, decided by a seeded random sequence so that a test run can be repeated exactly:
 * the n-th request to an affected service always gets the same fate for the same spec.
 */
import type { FaultSpec, ServiceKind } from './types.js';

export type FaultDecision =
  | { kind: 'none'; latencyMs: number }
  | { kind: 'hang'; latencyMs: number }
  | { kind: 'reset'; latencyMs: number }
  | { kind: 'resetAfter'; latencyMs: number }
  | { kind: 'error'; status: 500 | 503; latencyMs: number }
  | { kind: 'throttled'; retryAfterSeconds: number; latencyMs: number };

/** mulberry32: small, fast, good enough to spread faults evenly. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rate = (x: number | undefined): number => (x && x > 0 ? Math.min(1, x) : 0);

export function validateFaultSpec(spec: FaultSpec): string | undefined {
  const rates: (keyof FaultSpec)[] = [
    'error5xxRate',
    'resetRate',
    'resetAfterRate',
    'hangRate',
    'throttleRate',
  ];
  for (const k of rates) {
    const v = spec[k];
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0 && v <= 1)))
      return `${k} must be a number from 0 to 1`;
  }
  const total = rates.reduce((sum, k) => sum + rate(spec[k] as number | undefined), 0);
  if (total > 1) return 'the fault rates add up to more than 1';
  if (spec.latencyMs !== undefined && !(typeof spec.latencyMs === 'number' && spec.latencyMs >= 0)) {
    return 'latencyMs must be a number of milliseconds, 0 or more';
  }
  if (
    spec.retryAfterSeconds !== undefined &&
    !(Number.isInteger(spec.retryAfterSeconds) && spec.retryAfterSeconds >= 0)
  ) {
    return 'retryAfterSeconds must be a whole number of seconds, 0 or more';
  }
  if (spec.seed !== undefined && !Number.isInteger(spec.seed)) return 'seed must be an integer';
  if (
    spec.only !== undefined &&
    (!Array.isArray(spec.only) || spec.only.some((s) => s !== 'dps' && s !== 'hub'))
  ) {
    return 'only must list services among "dps" and "hub"';
  }
  return undefined;
}

export class FaultInjector {
  private spec: FaultSpec | undefined;
  private random: () => number = Math.random;

  constructor(spec?: FaultSpec) {
    this.set(spec);
  }

  set(spec: FaultSpec | undefined): void {
    if (spec) {
      const problem = validateFaultSpec(spec);
      if (problem) throw new Error(`faults: ${problem}`);
    }
    this.spec = spec;
    this.random = mulberry32(spec?.seed ?? 1);
  }

  get current(): FaultSpec | undefined {
    return this.spec;
  }

  decide(service: ServiceKind): FaultDecision {
    const s = this.spec;
    if (!s || (s.only && !s.only.includes(service))) return { kind: 'none', latencyMs: 0 };
    const latencyMs = s.latencyMs ?? 0;
    const r = this.random();
    let edge = rate(s.hangRate);
    if (r < edge) return { kind: 'hang', latencyMs };
    edge += rate(s.resetRate);
    if (r < edge) return { kind: 'reset', latencyMs };
    edge += rate(s.resetAfterRate);
    if (r < edge) return { kind: 'resetAfter', latencyMs };
    edge += rate(s.error5xxRate);
    if (r < edge) return { kind: 'error', status: this.random() < 0.5 ? 500 : 503, latencyMs };
    edge += rate(s.throttleRate);
    if (r < edge) return { kind: 'throttled', retryAfterSeconds: s.retryAfterSeconds ?? 1, latencyMs };
    return { kind: 'none', latencyMs };
  }
}
