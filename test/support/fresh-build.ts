/**
 * vitest globalSetup: the CLI, device and terminal (tmux) tests run the compiled program, so a dist/
 * older than the sources would test the previous build and pass or fail for the wrong code. Before any
 * test runs, dist/ is compared with what it is built from (src, the bundler script, the build config,
 * the lock file) and rebuilt when anything is newer.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const INPUTS = ['src', 'scripts/bundle.js', 'tsconfig.build.json', 'package-lock.json'];
const OUTPUTS = ['dist/src/cli.js', 'dist/bundle/cli.js'];
/** Written by scripts/build.js at the end of every build (it rewrites only what changed). */
const BUILT_MARK = 'dist/build.done';

function newestMtime(path: string): number {
  const full = join(ROOT, path);
  if (!existsSync(full)) return 0;
  const stat = statSync(full);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(full)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Why dist/ must be rebuilt, or undefined when it is newer than everything it is built from. */
export function staleBuild(): string | undefined {
  const missing = OUTPUTS.find((p) => !existsSync(join(ROOT, p)));
  if (missing) return `${missing} is missing`;
  const mark = join(ROOT, BUILT_MARK);
  if (!existsSync(mark)) return `${BUILT_MARK} is missing`;
  const built = statSync(mark).mtimeMs;
  const changed = INPUTS.find((p) => newestMtime(p) > built);
  return changed ? `${changed} changed after the last build` : undefined;
}

export default function setup(): void {
  const why = staleBuild();
  if (!why) return;
  process.stderr.write(`fresh-build: ${why}; running npm run build before the tests\n`);
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  const still = staleBuild();
  if (still) throw new Error(`fresh-build: the build did not bring dist/ up to date (${still})`);
}
