/**
 * A child process for the lock race tests: waits for a "go" file, tries to take the lock, prints
 * `got` or `busy <pid>`, then holds what it took until its stdin closes.
 * Usage: node --import tsx test/support/lock-child.ts <lock file> <go file>
 */
import { existsSync } from 'node:fs';
import { acquireLock } from '../../src/services/pid-lock.js';

const [lockPath, goPath] = process.argv.slice(2) as [string, string];
while (!existsSync(goPath)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
let release = () => {};
try {
  release = acquireLock(lockPath, (holder) => Object.assign(new Error('busy'), { holder }), {
    info: { runId: `run-${process.pid}` },
  });
  process.stdout.write('got\n');
} catch (e) {
  process.stdout.write(`busy ${(e as { holder?: { pid: number } }).holder?.pid ?? '?'}\n`);
}
process.stdin.resume();
process.stdin.on('end', () => {
  release();
  process.exit(0);
});
