// Bundles the compiled CLI (dist/src/cli.js) into dist/bundle/ with esbuild: the first frame of the TUI
// then loads a few files instead of hundreds (ink alone pulls in es-toolkit's whole compat barrel).
// The Azure SDKs stay external (CommonJS that loads its own files); what the TUI does not need for its
// first frame stays in chunks that load on demand (the dynamic imports in cli.ts).
import { readFile, rm } from 'node:fs/promises';
import { build } from 'esbuild';

const root = new URL('../', import.meta.url);

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

await build({
  absWorkingDir: new URL('.', root).pathname,
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
