// `npm run build`, `npm start`, `npm pack`: compiles what changed (tsc in build mode, its state in
// dist/build.tsbuildinfo: a second build with no change only compares timestamps and hashes), then
// bundles the CLI when one of the bundle's inputs changed (scripts/bundle.js). A clean build: delete dist/.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);
const bundled = spawnSync(process.execPath, [fileURLToPath(new URL('./bundle.js', import.meta.url)), ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(bundled.status ?? 1);
