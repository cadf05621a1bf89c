/**
 * The value behind a CommonJS module's `exports.default`. Node's ESM loader hands over module.exports as `default`
 * (so the class sits at .default.default), while tsx and vite unwrap `__esModule` modules (.default); accept both.
 */
export function cjsDefault<T>(mod: unknown): T {
  const outer = (mod as { default?: unknown }).default;
  const inner = (outer as { default?: unknown } | undefined)?.default;
  return (inner ?? outer) as T;
}
