import { spawnSync } from 'node:child_process';
import { requireProgram } from './tools.js';

/**
 * Writes NAME-VERSION-py3-none-any.whl (the module `name`, METADATA, WHEEL, RECORD: a wheel is a zip) into `dir`
 * with Python's zipfile, for pip tests that install offline. `name` is the import name (vp_left); the
 * distribution is the same with dashes (vp-left).
 */
export function buildWheel(dir: string, name: string, version: string): void {
  const script = `
import sys, zipfile
d, n, v = sys.argv[1], sys.argv[2], sys.argv[3]
info = f"{n}-{v}.dist-info"
files = {
    f"{n}/__init__.py": f"VERSION = '{v}'\\n",
    f"{info}/METADATA": f"Metadata-Version: 2.1\\nName: {n.replace('_', '-')}\\nVersion: {v}\\n",
    f"{info}/WHEEL": "Wheel-Version: 1.0\\nGenerator: vncplay-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
with zipfile.ZipFile(f"{d}/{n}-{v}-py3-none-any.whl", "w") as z:
    for name, text in files.items():
        z.writestr(name, text)
    z.writestr(f"{info}/RECORD", "".join(f"{n},,\\n" for n in files) + f"{info}/RECORD,,\\n")
`;
  const r = spawnSync(requireProgram('python3'), ['-c', script, dir, name, version], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the wheel: ${r.stderr}`);
}
