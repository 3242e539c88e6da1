/** The emulator's own endpoints (any host, no auth): stats, and faults settable at run time. */
import { ServiceError } from './errors.js';
import { validateFaultSpec } from './faults.js';
import { type Route, pathPattern } from './router.js';
import type { FaultSpec } from './types.js';

export function controlRoutes(): Route[] {
  const r = (method: string, path: string, operation: string, handle: Route['handle']): Route => ({
    service: 'control',
    method,
    pattern: pathPattern(path),
    operation,
    auth: 'none',
    handle,
  });
  return [
    r('GET', '/_emulator/stats', 'control:stats', (ctx) => ({
      status: 200,
      body: ctx.emulator.stats.snapshot(),
    })),
    r('DELETE', '/_emulator/stats', 'control:resetStats', (ctx) => {
      ctx.emulator.stats.reset();
      return { status: 204 };
    }),
    r('GET', '/_emulator/faults', 'control:faults', (ctx) => ({
      status: 200,
      body: ctx.emulator.faults.current ?? null,
    })),
    r('PUT', '/_emulator/faults', 'control:setFaults', (ctx) => {
      const spec = ctx.body as FaultSpec | null | undefined;
      if (spec !== null && spec !== undefined) {
        if (typeof spec !== 'object' || Array.isArray(spec)) {
          throw new ServiceError(
            'badRequest',
            'the body must be a fault spec object, or null to clear faults',
          );
        }
        const problem = validateFaultSpec(spec);
        if (problem) throw new ServiceError('badRequest', `faults: ${problem}`);
      }
      ctx.emulator.faults.set(spec ?? undefined);
      return { status: 200, body: spec ?? null };
    }),
    r('GET', '/_emulator/health', 'control:health', () => ({ status: 200, body: { ok: true } })),
  ];
}
