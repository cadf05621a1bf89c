#!/usr/bin/env node
// The vncplay command. It runs the CLI's bundle (dist/bundle/main.js, made by scripts/bundle.mjs in `npm run build`):
// one entry plus lazily loaded chunks start faster than the ~90 files tsc writes to dist/. Library users import
// dist/index.js (tsc output) instead.
import { readFileSync, statSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

const bundleDir = new URL('../dist/bundle/', import.meta.url);
const bundleEntry = new URL('main.js', bundleDir);
const tscEntry = new URL('../dist/cli/main.js', import.meta.url);

mapBundleStackTraces();
const { main } = await import(cliEntry().href);
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exitCode = 70;
  },
);

/**
 * The bundle, unless tsc has written dist/ since the bundle was made (`tsc -p tsconfig.build.json` run alone):
 * then the bundle holds older code than the sources, and running it would hide the change being tested.
 * tsc rewrites every output file, so one mtime comparison tells.
 */
function cliEntry() {
  const bundle = statSync(bundleEntry, { throwIfNoEntry: false });
  const tsc = statSync(tscEntry, { throwIfNoEntry: false });
  if (bundle && !(tsc && tsc.mtimeMs > bundle.mtimeMs)) return bundleEntry;
  const why = bundle ? 'is older than dist/cli/ (tsc ran without the bundle step)' : 'is missing';
  process.stderr.write(`vncplay: dist/bundle/ ${why}; running dist/cli/main.js. \`npm run build\` makes both.\n`);
  return tscEntry;
}

/**
 * Stack traces name src/*.ts lines instead of bundle chunk lines. `node --enable-source-maps` would do the same,
 * but it parses every loaded chunk's map at start (~20-40 ms measured); this reads a chunk's map only when a
 * stack trace that passes through it is formatted, which happens for internal errors, not on a normal run.
 */
function mapBundleStackTraces() {
  if (process.sourceMapsEnabled) return; // node maps them itself then
  /** @type {Map<string, SourceMap | undefined>} */
  const maps = new Map();
  const mapOf = (/** @type {string} */ chunkUrl) => {
    if (!maps.has(chunkUrl)) maps.set(chunkUrl, readSourceMap(chunkUrl));
    return maps.get(chunkUrl);
  };
  // The same text node's default formatter makes: the error's toString, then one "    at …" line per frame.
  Error.prepareStackTrace = (error, frames) => {
    let head;
    try {
      head = Error.prototype.toString.call(error);
    } catch {
      head = '<error>';
    }
    return head + frames.map((frame) => `\n    at ${safeSourceFrame(frame, mapOf)}`).join('');
  };
}

/** @param {string} chunkUrl */
function readSourceMap(chunkUrl) {
  try {
    return new SourceMap(JSON.parse(readFileSync(fileURLToPath(`${chunkUrl}.map`), 'utf8')));
  } catch {
    return undefined; // no map (or an unreadable one): the frame keeps its bundle position
  }
}

/** A stack trace must never fail to format: any trouble mapping a frame leaves it as V8 wrote it. */
function safeSourceFrame(/** @type {NodeJS.CallSite} */ frame, /** @type {(chunkUrl: string) => SourceMap | undefined} */ mapOf) {
  try {
    return sourceFrame(frame, mapOf);
  } catch {
    return String(frame);
  }
}

/**
 * One stack frame as V8 prints it, with a bundle position replaced by the source position.
 * @param {NodeJS.CallSite} frame
 * @param {(chunkUrl: string) => SourceMap | undefined} mapOf
 */
function sourceFrame(frame, mapOf) {
  const text = String(frame);
  const file = frame.getFileName();
  const line = frame.getLineNumber();
  const column = frame.getColumnNumber();
  if (!file?.startsWith(bundleDir.href) || line === null || column === null) return text;
  const entry = mapOf(file)?.findEntry(line - 1, column - 1);
  if (!entry || !('originalSource' in entry) || !entry.originalSource) return text;
  const source = fileURLToPath(new URL(entry.originalSource, file));
  return text.replace(`${file}:${line}:${column}`, `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`);
}
