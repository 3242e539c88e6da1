// Bundles the compiled CLI (dist/src/cli.js) into dist/bundle/ with esbuild: the first frame of the TUI
// then loads a few files instead of hundreds (ink alone pulls in es-toolkit's whole compat barrel).
// The Azure SDKs stay external (CommonJS that loads its own files); what the TUI does not need for its
// first frame stays in chunks that load on demand (the dynamic imports in cli.ts).
// It bundles only when an input changed: dist/bundle.inputs.json records the size and mtime of every file
// the last bundle read (esbuild's metafile) and of this script; `--force` bundles anyway.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = new URL('../', import.meta.url);
const rootDir = fileURLToPath(root);
const stampFile = new URL('dist/bundle.inputs.json', root);
const self = fileURLToPath(import.meta.url);

/** What is known of a file without reading it: changes whenever it is rewritten. */
function fingerprint(path) {
  try {
    const s = statSync(new URL(path, root));
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

const scriptHash = () => createHash('sha256').update(readFileSync(self)).digest('hex');

/** True when the last bundle is there and none of its inputs (nor this script) changed since. */
function upToDate() {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
  } catch {
    return false;
  }
  if (stamp.script !== scriptHash() || fingerprint('dist/bundle/cli.js') === 'missing') return false;
  return Object.entries(stamp.inputs).every(([path, seen]) => fingerprint(path) === seen);
}

if (!process.argv.includes('--force') && upToDate()) process.exit(0);

// ink imports its devtools only when DEV=true; a stub keeps react-devtools-core (which sets
// global.window) out of the bundle.
const stubInkDevtools = {
  name: 'stub-ink-devtools',
  setup(b) {
    b.onResolve({ filter: /^\.\/devtools\.js$/ }, (args) =>
      args.importer.includes('/node_modules/ink/') ? { path: 'ink-devtools', namespace: 'stub' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};

// yoga-layout's Emscripten loader reads its inlined wasm with fetch() when fetch exists: on Node that loads
// undici just to decode a data: URL. Without fetch it decodes the same base64 with atob().
const yogaWithoutFetch = {
  name: 'yoga-without-fetch',
  setup(b) {
    b.onLoad({ filter: /yoga-wasm-base64-esm\.js$/ }, async (args) => ({
      contents: `const fetch = undefined;\n${await readFile(args.path, 'utf8')}`,
      loader: 'js',
    }));
  },
};

// Chunk names carry content hashes: clear out the previous build's.
await rm(new URL('dist/bundle/', root), { recursive: true, force: true });

const result = await build({
  absWorkingDir: rootDir,
  metafile: true,
  entryPoints: { cli: 'dist/src/cli.js' },
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // reflect-metadata must run before @peculiar/x509 loads: both stay imports, in source order.
  external: ['azure-*', '@azure/*', '@peculiar/*', 'reflect-metadata'],
  // Production React: no development checks, and no warnings printed over the alternate screen.
  define: { 'process.env.NODE_ENV': '"production"' },
  // Bundled CommonJS (commander, react) calls require() for Node's built-in modules.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  plugins: [stubInkDevtools, yogaWithoutFetch],
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});

// Paths in the metafile are relative to the working directory; the stub's namespace is not a file.
const inputs = Object.fromEntries(
  Object.keys(result.metafile.inputs)
    .filter((path) => !path.includes(':'))
    .map((path) => [path, fingerprint(path)]),
);
await writeFile(stampFile, `${JSON.stringify({ script: scriptHash(), inputs })}\n`);
