import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/** Each cloud SDK is loaded only when its provider is used: checked in a fresh Node process. */

const root = path.resolve(import.meta.dirname, '../..');
const url = (rel: string) => pathToFileURL(path.join(root, rel)).href;

describe('security_group SDK loading', () => {
  it('loads no SDK on import, and only the AWS SDK for an AWS adapter', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-lazy-'));
    const script = path.join(dir, 'probe.mjs');
    await writeFile(
      script,
      `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const loaded = () => [...new Set(Object.keys(require.cache).flatMap((k) => {
  const m = /node_modules\\/((?:@aws-sdk|@alicloud)\\/[^/]+|tencentcloud-sdk-nodejs)\\//.exec(k);
  return m ? [m[1]] : [];
}))].sort();
await import(${JSON.stringify(url('src/modules/security-group/index.ts'))});
const onImport = loaded();
const { createAwsAdapter } = await import(${JSON.stringify(url('src/modules/security-group/aws.ts'))});
await createAwsAdapter({ region: 'eu-west-1' }, []);
console.log(JSON.stringify({ onImport, afterAws: loaded() }));
`,
    );
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], { cwd: root, timeout: 60_000 }).finally(() =>
      rm(dir, { recursive: true, force: true }),
    );
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as { onImport: string[]; afterAws: string[] };
    expect(r.onImport).toEqual([]);
    expect(r.afterAws).toContain('@aws-sdk/client-ec2');
    expect(r.afterAws.some((m) => m.startsWith('@alicloud') || m.startsWith('tencentcloud'))).toBe(false);
  }, 60_000);
});
