import { createHash } from 'node:crypto';
import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';
import type { ModuleContext, ModuleReturn } from './types.js';

/**
 * rpm_key: Ansible's ansible.builtin.rpm_key. Ansible asks gpg on the host for the key's id and fingerprint; vncplay
 * reads them from the key itself (an OpenPGP v4 public key: the fingerprint is the SHA-1 of its key packet, the id
 * its last 8 bytes), so the host needs rpm and nothing else. The key is read (or downloaded) on the host in one
 * command that also lists the keys rpm has imported; importing is `rpm --import`, removing `rpm --erase --allmatches
 * gpg-pubkey-<short id>`, as Ansible does.
 */
const spec = defineSpec({
  description: "Import an OpenPGP public key into rpm's database (for signed packages), or remove one.",
  options: {
    key: { type: 'str', required: true, description: 'A URL, a file on the host (ASCII-armored public key), or for state absent a key id (8 or 16 hex digits).' },
    state: { type: 'str', choices: ['absent', 'present'], default: 'present', description: 'present imports the key, absent removes it.' },
    fingerprint: { type: 'str', description: "The key's full fingerprint (spaces allowed): the import fails when the key's differs." },
    validate_certs: { type: 'bool', default: true, description: "Check the TLS certificate of an https URL." },
  },
});

/** Ansible's is_keyid: starts with 8 hex digits, optionally after 0x (re.match, so anything may follow). */
export function isKeyId(key: string): boolean {
  return /^(0x)?[0-9a-f]{8}/i.test(key);
}

/** Ansible's normalize_keyid: trimmed, upper case, without 0x. */
export function normalizeKeyId(keyId: string): string {
  return keyId.trim().toUpperCase().replace(/^0X/, '');
}

export interface PublicKeyInfo {
  /** 40 upper-case hex digits. */
  fingerprint: string;
  /** The long key id: the fingerprint's last 16 digits. */
  keyId: string;
}

const ARMOR_BLOCK = /-----BEGIN PGP PUBLIC KEY BLOCK-----([\s\S]*?)-----END PGP PUBLIC KEY BLOCK-----/g;

/** The primary key of each ASCII-armored public key block in `text` (rpm keeps each imported key so). */
export function readPublicKeys(text: string): PublicKeyInfo[] {
  const keys: PublicKeyInfo[] = [];
  for (const block of text.matchAll(ARMOR_BLOCK)) {
    const body = block[1]!.replace(/\r/g, '');
    // Armor headers end at the first empty line; the checksum line starts with '='.
    const afterHeaders = body.includes('\n\n') ? body.slice(body.indexOf('\n\n') + 2) : body;
    const base64 = afterHeaders
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('='))
      .join('');
    const key = primaryKey(Buffer.from(base64, 'base64'));
    if (key) keys.push(key);
  }
  return keys;
}

/** The first packet of a transferable public key, when it is a v4 public-key packet (tag 6). */
function primaryKey(data: Buffer): PublicKeyInfo | undefined {
  if (data.length < 2 || (data[0]! & 0x80) === 0) return undefined;
  const first = data[0]!;
  let tag: number;
  let length: number;
  let offset: number;
  if (first & 0x40) {
    // new packet format
    tag = first & 0x3f;
    const l0 = data[1]!;
    if (l0 < 192) [length, offset] = [l0, 2];
    else if (l0 < 224) [length, offset] = [((l0 - 192) << 8) + data[2]! + 192, 3];
    else if (l0 === 255) [length, offset] = [data.readUInt32BE(2), 6];
    else return undefined;
  } else {
    tag = (first >> 2) & 0x0f;
    const lengthType = first & 0x03;
    if (lengthType === 0) [length, offset] = [data[1]!, 2];
    else if (lengthType === 1) [length, offset] = [data.readUInt16BE(1), 3];
    else if (lengthType === 2) [length, offset] = [data.readUInt32BE(1), 5];
    else return undefined;
  }
  const packet = data.subarray(offset, offset + length);
  if (tag !== 6 || packet.length !== length || packet[0] !== 4) return undefined;
  const prefix = Buffer.from([0x99, (length >> 8) & 0xff, length & 0xff]);
  const fingerprint = createHash('sha1').update(prefix).update(packet).digest('hex').toUpperCase();
  return { fingerprint, keyId: fingerprint.slice(-16) };
}

/**
 * Reads the key (a file, or downloaded from a URL with the first of curl, wget or python3 the host has) and the
 * keys rpm has imported. Fixed script; the values arrive as positional parameters.
 */
const GATHER_SCRIPT = String.raw`
mode=$1 key=$2 insecure=$3
case $mode in
  url)
    if command -v curl >/dev/null 2>&1; then
      out=$(curl -fsSL $([ "$insecure" = 1 ] && echo -k) -- "$key" 2>&1) || { printf 'fetch_failed=%s\n' "$out"; exit 0; }
    elif command -v wget >/dev/null 2>&1; then
      out=$(wget -q -O - $([ "$insecure" = 1 ] && echo --no-check-certificate) -- "$key" 2>&1) || { printf 'fetch_failed=%s\n' "$out"; exit 0; }
    else
      out=$(python3 -c 'import ssl, sys, urllib.request
ctx = ssl._create_unverified_context() if sys.argv[2] == "1" else None
sys.stdout.write(urllib.request.urlopen(sys.argv[1], context=ctx, timeout=30).read().decode())' "$key" "$insecure" 2>&1) ||
        { printf 'fetch_failed=%s\n' "$(printf '%s\n' "$out" | tail -n 1)"; exit 0; }
    fi
    printf '%s\n' "$out";;
  file)
    if [ -f "$key" ]; then cat -- "$key" || exit 3; else echo not_a_file=1; fi;;
esac
echo ---imported---
rpm -q gpg-pubkey --qf '%{DESCRIPTION}\n' 2>/dev/null || true
`;

interface Gathered {
  keyText: string;
  notAFile: boolean;
  fetchFailed?: string;
  imported: PublicKeyInfo[];
}

function parseGather(stdout: string): Gathered {
  const [head = '', imported = ''] = stdout.split(/^---imported---$/m);
  const fetchFailed = /^fetch_failed=(.*)$/m.exec(head)?.[1];
  return {
    keyText: head,
    notAFile: /^not_a_file=1$/m.test(head),
    ...(fetchFailed !== undefined ? { fetchFailed } : {}),
    imported: readPublicKeys(imported),
  };
}

async function rpmCommand(ctx: ModuleContext, argv: string[], stdinKey?: string): Promise<ModuleReturn | undefined> {
  // rpm --import reads a file: the key text goes through a temporary one on the host.
  const command = stdinKey === undefined
    ? argv
    : ['sh', '-c', 'f=$(mktemp) || exit 1; printf "%s\\n" "$1" > "$f"; shift; "$@" "$f"; rc=$?; rm -f "$f"; exit $rc', 'sh', stdinKey, ...argv];
  const res = await ctx.exec(command);
  return res.rc === 0 ? undefined : { failed: true, msg: res.stderr.trim() || `${argv.join(' ')} failed (rc ${res.rc})` };
}

export const rpmKeyModule = actionModule(spec, {
  kind: 'action',
  name: 'rpm_key',
  where: 'host',
  inCheckMode: 'run',
  async run(args, ctx): Promise<ModuleReturn> {
    const mode = args.key.includes('://') ? 'url' : isKeyId(args.key) ? 'id' : 'file';
    const res = await ctx.exec(['sh', '-c', GATHER_SCRIPT, 'sh', mode, args.key, args.validate_certs ? '0' : '1']);
    if (res.rc !== 0) return { failed: true, msg: res.stderr.trim() || `rpm_key: reading ${args.key} failed (rc ${res.rc})` };
    const gathered = parseGather(res.stdout);
    if (gathered.fetchFailed !== undefined) return { failed: true, msg: `failed to fetch key at ${args.key} , error was: ${gathered.fetchFailed}` };
    if (gathered.notAFile) return { failed: true, msg: `Not a valid key ${args.key}` };
    const fromKey = mode === 'id' ? undefined : readPublicKeys(gathered.keyText)[0];
    if (mode === 'url' && !fromKey) return { failed: true, msg: `Not a public key: ${args.key}` };
    if (mode === 'file' && !fromKey) return { failed: true, msg: `no valid OpenPGP public key in ${args.key}` };
    const keyId = normalizeKeyId(fromKey?.keyId ?? args.key);
    // Ansible's is_key_imported: the id is a substring of an imported key's long id.
    const imported = gathered.imported.some((k) => k.keyId.includes(keyId));
    if (args.state === 'absent') {
      if (!imported) return { changed: false };
      if (!ctx.check) {
        const failed = await rpmCommand(ctx, ['rpm', '--erase', '--allmatches', `gpg-pubkey-${keyId.slice(-8).toLowerCase()}`]);
        if (failed) return failed;
      }
      return { changed: true };
    }
    if (imported) return { changed: false };
    if (!fromKey) return { failed: true, msg: 'When importing a key, a valid file must be given' };
    if (args.fingerprint !== undefined) {
      const wanted = args.fingerprint.replace(/ /g, '').toUpperCase();
      if (wanted !== fromKey.fingerprint) {
        return { failed: true, msg: `The specified fingerprint, '${wanted}', does not match the key fingerprint '${fromKey.fingerprint}'` };
      }
    }
    if (!ctx.check) {
      const failed = mode === 'file' ? await rpmCommand(ctx, ['rpm', '--import', args.key]) : await rpmCommand(ctx, ['rpm', '--import'], gathered.keyText);
      if (failed) return failed;
    }
    return { changed: true };
  },
});
