#!/usr/bin/env node
// Launcher: starts the bundled CLI (dist/bundle, a few files: the TUI draws its first frame sooner), or
// the compiled one (dist/src) when there is no bundle or it is older than the compiled files (only
// `tsc` ran since). `npm run build` produces both.
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url));
const bundled = fileURLToPath(new URL('../dist/bundle/cli.js', import.meta.url));
if (!existsSync(compiled)) {
  process.stderr.write(
    'iot-deprovision is not built yet: run `npm run build` in the project folder first.\n',
  );
  process.exit(2);
}
const fresh = existsSync(bundled) && statSync(bundled).mtimeMs >= statSync(compiled).mtimeMs;
await import(fresh ? bundled : compiled);
