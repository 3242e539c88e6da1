// `npm run build`, `npm start`, `npm pack`: compiles what changed (tsc in build mode, its state in
// dist/build.tsbuildinfo), then bundles the CLI when one of the bundle's inputs changed (scripts/bundle.js).
// When no source, config or lock file is newer than the last compile without errors, tsc is not even loaded (a second
// `npm start` then costs a few stat calls). A clean build: delete dist/. `--force` bundles anyway.
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
// Written after a compile without errors: a failed compile is run (and its errors shown) again next time.
const compiledOk = join(root, 'dist', 'build.ok');

/** Newest modification time under `path` (files and folders: a file added, moved or removed changes its folder). */
function newest(path) {
  let s;
  try {
    s = statSync(path);
  } catch {
    return 0;
  }
  if (!s.isDirectory()) return s.mtimeMs;
  let latest = s.mtimeMs;
  for (const name of readdirSync(path)) latest = Math.max(latest, newest(join(path, name)));
  return latest;
}

function compiledIsCurrent() {
  let built;
  try {
    built = statSync(compiledOk).mtimeMs;
  } catch {
    return false;
  }
  const inputs = ['src', 'bench', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];
  return inputs.every((p) => newest(join(root, p)) < built);
}

if (!compiledIsCurrent()) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  rmSync(compiledOk, { force: true });
  const compiled = spawnSync(process.execPath, [tsc, '-b', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (compiled.status !== 0) process.exit(compiled.status ?? 1);
  writeFileSync(compiledOk, '');
}
// The compile is current as of now (tests check this mark: an unchanged output keeps its old time); the
// bundler then brings the bundle up to date, or fails the build.
writeFileSync(join(root, 'dist', 'build.done'), '');
await import('./bundle.js');
