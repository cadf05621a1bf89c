#!/usr/bin/env node
// Bundles the tsc output of the CLI (dist/cli/main.js) into dist/bundle/: one ESM entry, main.js, plus the chunks
// that dynamic imports load lazily (vault, drill, schedule, the runner, reporters, cloud adapters…).
// Why: node resolves and reads ~90 ESM files plus yaml/nunjucks/ajv from node_modules at every start; one bundle
// cuts that to a few files. bin/vncplay.js runs the bundle; library users keep importing dist/index.js.
//
// Usage: node scripts/bundle.mjs [--dist DIR] [--out DIR]   (defaults: dist, DIR/bundle)
// bench/run.ts calls it with its own --dist, so the benchmark measures the same bundle the CLI ships.
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

/**
 * Kept as imports of node_modules at run time:
 * - ssh2 (and its optional cpu-features) require native .node addons by relative path, which a bundle breaks;
 * - the cloud SDKs are large, loaded only by security_group through a dynamic import, and not worth parsing
 *   into chunks on every build.
 */
export const EXTERNAL = ['ssh2', 'cpu-features', '@aws-sdk/*', '@alicloud/*', 'tencentcloud-sdk-nodejs', 'tencentcloud-sdk-nodejs/*'];

/**
 * CommonJS packages bundled in (nunjucks and its dependencies) call require() for node built-ins; an ESM bundle
 * has no require, so the bundle makes one for them.
 */
const REQUIRE_BANNER = "import { createRequire as __vncplayCreateRequire } from 'node:module'; const require = __vncplayCreateRequire(import.meta.url);";

/**
 * Builds the bundle. The output folder must be two levels below the folder holding schemas/, package.json and
 * bin/ (dist/bundle/ in the repo): the sources find those with new URL('../../…', import.meta.url), which every
 * chunk evaluates against its own URL, so all chunks stay flat in outDir.
 * @param {{ distDir: string, outDir?: string }} opts
 * @returns {Promise<{ entry: string, files: string[] }>}
 */
export async function bundleCli({ distDir, outDir = path.join(distDir, 'bundle') }) {
  const entry = path.join(distDir, 'cli', 'main.js');
  const result = await build({
    entryPoints: { main: entry },
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    banner: { js: REQUIRE_BANNER },
    // Linked maps, chained through tsc's own maps back to src/*.ts (see bin/vncplay.js for when they are used).
    sourcemap: 'linked',
    // Stack traces need positions, not the text: leaving the sources out halves dist/bundle/ (4.8 → 2.9 MB).
    sourcesContent: false,
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((f) => path.resolve(f));
  await pruneOldChunks(outDir, new Set(outputs));
  return { entry: path.join(outDir, 'main.js'), files: outputs.filter((f) => f.endsWith('.js')) };
}

/** How long a chunk of an earlier build is kept: longer than any CLI run that may still import it lazily. */
const OLD_CHUNK_GRACE_MS = 30 * 60_000;

/**
 * Chunk names carry content hashes, so every build that changes code writes new files. Earlier builds' files are
 * removed only once they are old: a vncplay started before this build (a test running alongside it, in a shared
 * working tree) still imports its own chunks lazily, and emptying the folder first would pull them from under it.
 * @param {string} outDir
 * @param {Set<string>} keep
 */
async function pruneOldChunks(outDir, keep) {
  const now = Date.now();
  for (const name of await readdir(outDir)) {
    const file = path.join(outDir, name);
    if (keep.has(file)) continue;
    const info = await stat(file);
    if (info.isFile() && now - info.mtimeMs > OLD_CHUNK_GRACE_MS) await rm(file, { force: true });
  }
}

async function cli() {
  const { values } = parseArgs({ options: { dist: { type: 'string' }, out: { type: 'string' } } });
  const distDir = path.resolve(values.dist ?? 'dist');
  const outDir = values.out !== undefined ? path.resolve(values.out) : undefined;
  await bundleCli(outDir !== undefined ? { distDir, outDir } : { distDir });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  cli().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
