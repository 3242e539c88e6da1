/**
 * How a person starts this program from their shell, for the commands it prints (restore, resume):
 * `iot-deprovision` when that name on PATH is this install, else `npx iot-deprovision` (from the clone).
 * Decided once at startup (services/invocation.ts); pure code only reads it.
 */
export const ON_PATH = 'iot-deprovision';
export const VIA_NPX = 'npx iot-deprovision';

let current: string = ON_PATH;

export function setInvocation(prefix: string): void {
  current = prefix;
}

export function invocation(): string {
  return current;
}

/** A complete command line: the invocation, then the arguments (run IDs are plain [0-9A-Za-z-]). */
export function commandLine(...args: string[]): string {
  return [current, ...args].join(' ');
}
