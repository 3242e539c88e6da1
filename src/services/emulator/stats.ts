/** Counts of what the emulator answered, so tests can prove what a client did (and did not do twice). */
import type { EmulatorStats } from './types.js';

export class StatsRecorder {
  private operations = new Map<string, Map<string, number>>();
  private destructive = new Map<string, Map<string, number>>();
  private requests = 0;

  request(): void {
    this.requests += 1;
  }

  answered(operation: string, outcome: number | string): void {
    bump(this.operations, operation, String(outcome));
  }

  /** A write that was applied to `target` (e.g. "hub-eu.azure-devices.net/dev-1"). */
  applied(target: string, action: string): void {
    bump(this.destructive, target, action);
  }

  snapshot(): EmulatorStats {
    return {
      operations: toRecord(this.operations),
      destructive: toRecord(this.destructive),
      requests: this.requests,
    };
  }

  reset(): void {
    this.operations = new Map();
    this.destructive = new Map();
    this.requests = 0;
  }
}

function bump(map: Map<string, Map<string, number>>, key: string, sub: string): void {
  let inner = map.get(key);
  if (!inner) {
    inner = new Map();
    map.set(key, inner);
  }
  inner.set(sub, (inner.get(sub) ?? 0) + 1);
}

function toRecord(map: Map<string, Map<string, number>>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [k, inner] of map) out[k] = Object.fromEntries(inner);
  return out;
}
