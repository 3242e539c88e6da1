/** Finds out whether `iot-deprovision` on PATH is this install (see core/invocation.ts). */
import { realpathSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ON_PATH, VIA_NPX } from '../core/invocation.js';

const real = (path: string): string | undefined => {
  try {
    return statSync(path).isFile() ? realpathSync(path) : undefined;
  } catch {
    return undefined;
  }
};

/**
 * `iot-deprovision` when the first `iot-deprovision` on PATH resolves (through npm's links) to `bin`,
 * the launcher this process was started from; otherwise `npx iot-deprovision`.
 */
export function detectInvocation(env: Record<string, string | undefined>, bin: string | undefined): string {
  const self = bin ? real(bin) : undefined;
  if (!self) return VIA_NPX;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const found = real(join(dir, ON_PATH));
    // The first one on PATH is the one the shell runs.
    if (found) return found === self ? ON_PATH : VIA_NPX;
  }
  return VIA_NPX;
}
