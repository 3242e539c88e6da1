#!/usr/bin/env node
// Launcher: starts the compiled CLI (npm run build produces dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write('iot-deprovision is not built yet: run `npm run build` in the project folder first.\n');
  process.exit(2);
}
await import(cli);
