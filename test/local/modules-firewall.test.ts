import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  applyTask,
  factsFromGather,
  parseSshConnection,
  planFirewall,
  rollbackScript,
  rulesFromArgs,
  type FirewallArgs,
  type FirewallFacts,
} from '../../src/modules/firewall/index.js';
import { iptablesRestoreInput, iptablesRuleLine, parseIptablesSave } from '../../src/modules/firewall/iptables.js';
import type { NftFacts } from '../../src/modules/firewall/backend.js';
import { nftApplyScript, nftRuleText, parseNftJson } from '../../src/modules/firewall/nftables.js';
import { parseRichRule, richRule } from '../../src/modules/firewall/firewalld.js';
import { cidrContains, parseCidr, parsePort, parseTag, ruleTag, verdict, type FwRule } from '../../src/modules/firewall/rule.js';
import { parseUfwAdded, ufwAdd } from '../../src/modules/firewall/ufw.js';
import { renderDiffs } from '../../src/output/diff.js';
import { firewall } from '../../src/modules/firewall/index.js';
import { checkArgs } from '../../src/runner/invoke-module.js';
import { parsedArgs } from '../support/module-args.js';

const rule = (over: Partial<FwRule> = {}): FwRule => ({ proto: 'tcp', portFrom: 5901, portTo: 5901, source: null, action: 'drop', ...over });
const nftFacts = (rules: FwRule[], extra: Partial<NftFacts> = {}): NftFacts => ({
  backend: 'nftables',
  nft: { table: rules.length > 0, chain: rules.length > 0, entries: rules.map((r) => ({ tag: ruleTag(r), rule: r })) },
  persisted: null,
  nftInclude: false,
  ...extra,
});
const ssh = { clientIp: '198.18.0.1', serverPort: 22 };

describe('rule model', () => {
  it.each([
    ['5901', { from: 5901, to: 5901 }],
    [5901, { from: 5901, to: 5901 }],
    ['5900-5999', { from: 5900, to: 5999 }],
    ['5900:5999', { from: 5900, to: 5999 }],
    ['0', undefined],
    ['70000', undefined],
    ['5999-5900', undefined],
    ['5901; touch /tmp/pwned', undefined],
    ['$(id)', undefined],
  ])('port %j', (p, want) => expect(parsePort(p)).toEqual(want));

  it.each([
    ['198.18.0.12', '198.18.0.12/32'],
    ['198.18.0.77/24', '198.18.0.0/24'],
    ['2001:db8::1', '2001:db8::1/128'],
    ['2001:DB8:0:0:1::/64', '2001:db8::/64'],
    ['0.0.0.0/0', '0.0.0.0/0'],
  ])('cidr %s → %s', (t, want) => {
    const c = parseCidr(t);
    expect(c && `${c.addr}/${c.prefix}`).toBe(want);
  });
  it.each(['host.example', '1.2.3.4/33', '1.2.3.4; touch /tmp/pwned', '"1.2.3.4"', '1.2.3.4\nflush ruleset', '999.1.1.1', ''])('not a cidr: %j', (t) => {
    expect(parseCidr(t)).toBeUndefined();
  });

  it('contains, including IPv4-mapped IPv6', () => {
    expect(cidrContains(parseCidr('198.18.0.0/24')!, '198.18.0.1')).toBe(true);
    expect(cidrContains(parseCidr('198.18.0.0/24')!, '::ffff:198.18.0.1')).toBe(true);
    expect(cidrContains(parseCidr('198.18.1.0/24')!, '198.18.0.1')).toBe(false);
    expect(cidrContains(parseCidr('2001:db8::/32')!, '2001:db8:1::5')).toBe(true);
  });

  it('tag round-trips and carries the comment outside the identity', () => {
    const r = rule({ source: parseCidr('198.18.0.12')!, action: 'accept', comment: 'vnc from h2' });
    expect(ruleTag(r)).toBe('vncplay/1 tcp 5901 198.18.0.12/32 accept # vnc from h2');
    expect(parseTag(ruleTag(r))).toEqual(r);
    expect(parseTag('something else')).toBeUndefined();
  });

  it('verdict: first match wins; accept exempts', () => {
    const rules = [rule({ source: parseCidr('198.18.0.12')!, action: 'accept' }), rule()];
    expect(verdict(rules, '198.18.0.12', 'tcp', 5901)).toBe('accept');
    expect(verdict(rules, '198.18.0.13', 'tcp', 5901)).toBe('drop');
    expect(verdict(rules, '198.18.0.13', 'tcp', 22)).toBe('pass');
    expect(verdict(rules, '198.18.0.13', 'udp', 5901)).toBe('pass');
  });
});

describe('the spec and its check', () => {
  it.each<[Record<string, unknown>, RegExp | undefined]>([
    [{ port: '5901' }, undefined],
    [{ port: '5901', source: ['198.18.0.12', '2001:db8::/32'] }, undefined],
    [{ port: 'ssh' }, /port must be/],
    [{ port: '5901', source: 'vnc.example.com' }, /source must be an IP/],
    [{ port: '5901', source: ['198.18.0.1', '$(touch /tmp/pwned)'] }, /source must be an IP/],
    [{ port: '5901', comment: 'ok comment, fine' }, undefined],
    [{ port: '5901', comment: 'x" ; add rule inet vncplay input accept; "' }, /comment/],
    [{ port: '5901', comment: 'a\nflush ruleset' }, /comment/],
    [{ port: '5901', comment: "it's" }, /comment/],
    [{ port: '5901', source: [] }, /source is an empty list/],
    [{ port: '5901', proto: 'icmp' }, /`proto` must be one of `tcp`, `udp`/],
  ])('%j', (args, want) => {
    const got = checkArgs(firewall, args);
    // Said once: `firewall: port must be …`, not `firewall: firewall: port must be …`.
    if (got !== undefined) expect(got).not.toMatch(/firewall: firewall:/);
    if (want) expect(got).toMatch(want);
    else expect(got).toBeUndefined();
  });
});

describe('nftables plan', () => {
  const allowH2: FirewallArgs = { port: 5901, source: '198.18.0.12', action: 'accept' };
  const dropAll: FirewallArgs = { port: 5901, action: 'drop' };

  it('first run adds, second run (same facts as the result) changes nothing', () => {
    const first = planFirewall(allowH2, nftFacts([]));
    expect(first).toHaveLength(1);
    const step = first[0]!.steps[0]!;
    expect(step.kind === 'exec' && step.argv).toEqual(['nft', '-f', '-']);
    expect(step.kind === 'exec' && step.stdin).toBe(nftApplyScript(rulesFromArgs(allowH2)));
    expect(planFirewall(allowH2, nftFacts(rulesFromArgs(allowH2)))).toEqual([]);
  });

  it('accepts go first, drops last, whatever the task order', () => {
    const after1 = applyTask([], rulesFromArgs(dropAll), 'present');
    const after2 = applyTask(after1, rulesFromArgs(allowH2), 'present');
    expect(after2.map((r) => r.action)).toEqual(['accept', 'drop']);
  });

  it('a changed comment replaces the rule in place; absent removes it', () => {
    const cur = rulesFromArgs({ ...dropAll, comment: 'old' });
    const after = applyTask(cur, rulesFromArgs({ ...dropAll, comment: 'new' }), 'present');
    expect(after.map((r) => r.comment)).toEqual(['new']);
    expect(applyTask(cur, rulesFromArgs(dropAll), 'absent')).toEqual([]);
    expect(planFirewall({ ...dropAll, state: 'absent' }, nftFacts([]))).toEqual([]);
  });

  it('one rule per source in a list', () => {
    expect(rulesFromArgs({ port: '5900-5999', source: ['198.18.0.12', '2001:db8::/48'] }).map(nftRuleText)).toEqual([
      'ip saddr 198.18.0.12/32 tcp dport 5900-5999 accept comment "vncplay/1 tcp 5900-5999 198.18.0.12/32 accept"',
      'ip6 saddr 2001:db8::/48 tcp dport 5900-5999 accept comment "vncplay/1 tcp 5900-5999 2001:db8::/48 accept"',
    ]);
  });

  it('reject on tcp sends a reset', () => {
    expect(nftRuleText(rule({ action: 'reject' }))).toBe('tcp dport 5901 reject with tcp reset comment "vncplay/1 tcp 5901 any reject"');
  });

  it('lockout: dropping the SSH port from the controller is refused, unless allow_lockout', () => {
    expect(() => planFirewall({ port: 22, action: 'drop' }, nftFacts([], { ssh }))).toThrow(/refusing .* SSH connection .*198\.18\.0\.1/);
    expect(() => planFirewall({ port: '1-1024', action: 'reject', source: '198.18.0.0/24' }, nftFacts([], { ssh }))).toThrow(/E?refusing/);
    expect(planFirewall({ port: 22, action: 'drop', allow_lockout: true }, nftFacts([], { ssh }))).toHaveLength(1);
    // other sources, other ports, udp: fine
    expect(planFirewall({ port: 22, action: 'drop', source: '198.18.0.13' }, nftFacts([], { ssh }))).toHaveLength(1);
    expect(planFirewall({ port: 22, proto: 'udp', action: 'drop' }, nftFacts([], { ssh }))).toHaveLength(1);
    // an accept for the controller earlier in the chain exempts it
    const exempt = rulesFromArgs({ port: 22, source: '198.18.0.1', action: 'accept' });
    expect(planFirewall({ port: 22, action: 'drop' }, nftFacts(exempt, { ssh }))).toHaveLength(1);
    // removing that accept while a drop exists would lock out
    const both = [...exempt, ...rulesFromArgs({ port: 22, action: 'drop' })];
    expect(() => planFirewall({ port: 22, source: '198.18.0.1', action: 'accept', state: 'absent' }, nftFacts(both, { ssh }))).toThrow(/refusing/);
  });

  it('over SSH a change is armed with a host-side rollback first', () => {
    const [c] = planFirewall(allowH2, nftFacts([], { ssh }));
    expect(c!.steps.map((s) => (s.kind === 'exec' ? s.argv[0] : s.kind))).toEqual(['sh', 'nft']);
    const arm = c!.steps[0]!;
    expect(arm.kind === 'exec' && arm.stdin).toContain('delete table inet vncplay');
  });

  it('persistent writes the include file and line once', () => {
    const facts = nftFacts([]);
    const changes = planFirewall({ ...allowH2, persistent: true }, facts);
    expect(changes.map((c) => c.summary)).toEqual([expect.stringMatching(/^add/), expect.stringMatching(/^persist/)]);
    const [, p] = changes;
    const content = p!.steps[0]!.kind === 'exec' ? (p!.steps[0] as { stdin: string }).stdin : '';
    const after = nftFacts(rulesFromArgs(allowH2), { persisted: content, nftInclude: true });
    expect(planFirewall({ ...allowH2, persistent: true }, after)).toEqual([]);
  });

  it('rollback script restores the previous rules and contains only generated text', () => {
    const before = rulesFromArgs(dropAll);
    const s = rollbackScript(nftFacts(before), before, false);
    expect(s).toContain(nftApplyScript(before).trimEnd());
    expect(s.split('\n').filter((l) => l === 'VNCPLAY_EOF')).toHaveLength(1);
  });

  it('parses nft -j output and ignores foreign rules', () => {
    const json = JSON.stringify({
      nftables: [
        { metainfo: { version: '1.0.6' } },
        { table: { family: 'inet', name: 'vncplay', handle: 1 } },
        { chain: { family: 'inet', table: 'vncplay', name: 'input', handle: 1, type: 'filter', hook: 'input', prio: -1, policy: 'accept' } },
        { rule: { family: 'inet', table: 'vncplay', chain: 'input', handle: 4, comment: 'vncplay/1 tcp 5901 any drop', expr: [] } },
        { rule: { family: 'inet', table: 'vncplay', chain: 'input', handle: 5, expr: [] } },
      ],
    });
    const st = parseNftJson(json);
    expect(st.table && st.chain).toBe(true);
    expect(st.entries.map((e) => e.rule?.action ?? null)).toEqual(['drop', null]);
    expect(parseNftJson('')).toEqual({ table: false, chain: false, entries: [] });
  });

  it('gather output sections → facts', () => {
    const out = '@@backend nftables\n@@nft\n\n@@include\n';
    expect(factsFromGather(out, ssh)).toMatchObject({ backend: 'nftables', ssh, nftInclude: true, persisted: null, nft: { table: false } });
    expect(() => factsFromGather('@@error nft: Operation not permitted\n', undefined)).toThrow(/Operation not permitted/);
  });

  it('SSH_CONNECTION parsing', () => {
    expect(parseSshConnection('198.18.0.1 56124 198.18.0.11 22\n')).toEqual({ clientIp: '198.18.0.1', serverPort: 22 });
    expect(parseSshConnection('\n')).toBeUndefined();
  });
});

describe('iptables', () => {
  const save = [
    '# Generated by iptables-save',
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':VNCPLAY - [0:0]',
    '-A INPUT -j VNCPLAY',
    '-A VNCPLAY -s 198.18.0.12/32 -p tcp -m tcp --dport 5901 -m comment --comment "vncplay/1 tcp 5901 198.18.0.12/32 accept" -j RETURN',
    '-A VNCPLAY -p tcp -m tcp --dport 5901 -m comment --comment "vncplay/1 tcp 5901 any drop" -j DROP',
    'COMMIT',
  ].join('\n');
  it('parses its own chain', () => {
    const st = parseIptablesSave(save);
    expect(st).toMatchObject({ chain: true, jump: true });
    expect(st.entries.map((e) => e.rule?.action)).toEqual(['accept', 'drop']);
  });
  it('renders what it parses (idempotent), accept as RETURN', () => {
    const rules = parseIptablesSave(save).entries.map((e) => e.rule!);
    expect(rules.map((r) => iptablesRuleLine(r))).toEqual(save.split('\n').filter((l) => l.startsWith('-A VNCPLAY')));
    const facts: FirewallFacts = { backend: 'iptables', ipt: parseIptablesSave(save), persisted: null };
    expect(planFirewall({ port: 5901, action: 'drop' }, facts)).toEqual([]);
    expect(planFirewall({ port: 5901, source: '198.18.0.12', action: 'accept' }, facts)).toEqual([]);
  });
  it('restore input re-states the chain and adds the jump only when missing', () => {
    const input = iptablesRestoreInput([rule()], false);
    expect(input).toContain('-F VNCPLAY');
    expect(input).toContain('-I INPUT 1 -j VNCPLAY');
    expect(iptablesRestoreInput([rule()], true)).not.toContain('-I INPUT');
  });
  it('IPv6 sources need ip6tables; persistent needs rules.v4', () => {
    const facts: FirewallFacts = { backend: 'iptables', ipt: { chain: false, jump: false, entries: [] }, persisted: null };
    expect(() => planFirewall({ port: 5901, source: '2001:db8::1' }, facts)).toThrow(/needs ip6tables/);
    expect(() => planFirewall({ port: 5901, persistent: true }, facts)).toThrow(/rules.v4/);
  });

  it('with ip6tables: any-source rules go to both families, v6 sources only to ip6tables; idempotent per family', () => {
    const empty = (): { chain: boolean; jump: boolean; entries: [] } => ({ chain: false, jump: false, entries: [] });
    const facts: FirewallFacts = { backend: 'iptables', ipt: empty(), ip6t: empty(), persisted: null, persisted6: null };
    const [any] = planFirewall({ port: 5901, action: 'reject', proto: 'udp' }, facts);
    const stdin = (i: number): string => String((any!.steps[i] as { stdin?: string }).stdin);
    expect(any!.steps.map((st) => (st.kind === 'exec' ? st.argv[0] : ''))).toEqual(['iptables-restore', 'ip6tables-restore']);
    expect(stdin(0)).toContain('--reject-with icmp-port-unreachable');
    expect(stdin(1)).toContain('--reject-with icmp6-port-unreachable');
    const [v6] = planFirewall({ port: 5901, source: '2001:db8::/32' }, facts);
    expect(String((v6!.steps[0] as { stdin?: string }).stdin)).not.toContain('2001:db8');
    expect(String((v6!.steps[1] as { stdin?: string }).stdin)).toContain('-s 2001:db8::/32');
    // drift: the any-rule exists in iptables but not in ip6tables → a change that re-states both
    const r = rulesFromArgs({ port: 5901, action: 'drop' })[0]!;
    const only4: FirewallFacts = { ...facts, ipt: { chain: true, jump: true, entries: [{ tag: ruleTag(r), rule: r }] } };
    expect(planFirewall({ port: 5901, action: 'drop' }, only4)).toHaveLength(1);
    const both: FirewallFacts = { ...only4, ip6t: { chain: true, jump: true, entries: [{ tag: ruleTag(r), rule: r }] } };
    expect(planFirewall({ port: 5901, action: 'drop' }, both)).toEqual([]);
  });
});

describe('firewalld and ufw command plans', () => {
  it('rich rules round-trip', () => {
    const r = rule({ source: parseCidr('198.18.0.12')!, action: 'accept' });
    expect(richRule(r)).toBe('rule priority="-10" family="ipv4" source address="198.18.0.12/32" port port="5901" protocol="tcp" accept');
    expect(parseRichRule(richRule(r))).toEqual(r);
    expect(parseRichRule('rule family="ipv4" source address="10.0.0.0/8" service name="ssh" accept')).toBeUndefined();
  });
  it('firewalld: runtime and permanent', () => {
    const facts: FirewallFacts = { backend: 'firewalld', firewalld: { runtime: [], permanent: [] } };
    const argv = planFirewall({ port: 5901, action: 'drop', persistent: true }, facts).flatMap((c) => c.steps.map((s) => (s.kind === 'exec' ? s.argv : [])));
    expect(argv).toEqual([
      ['firewall-cmd', '--add-rich-rule=rule port port="5901" protocol="tcp" drop'],
      ['firewall-cmd', '--permanent', '--add-rich-rule=rule port port="5901" protocol="tcp" drop'],
    ]);
    const done: FirewallFacts = { backend: 'firewalld', firewalld: { runtime: [rule()], permanent: [rule()] } };
    expect(planFirewall({ port: 5901, action: 'drop', persistent: true }, done)).toEqual([]);
  });
  it('ufw: tagged with its comment, accepts prepended', () => {
    const r = rule({ source: parseCidr('198.18.0.12')!, action: 'accept' });
    expect(ufwAdd(r)).toEqual(['ufw', 'prepend', 'allow', 'proto', 'tcp', 'from', '198.18.0.12/32', 'to', 'any', 'port', '5901', 'comment', ruleTag(r)]);
    const added = `Added user rules (see 'ufw status' for running firewall):\nufw prepend allow proto tcp from 198.18.0.12/32 to any port 5901 comment '${ruleTag(r)}'\n`;
    const facts: FirewallFacts = { backend: 'ufw', ufw: parseUfwAdded(added) };
    expect(planFirewall({ port: 5901, source: '198.18.0.12' }, facts)).toEqual([]);
  });
});

describe('nothing from the arguments is executed', () => {
  it('a canary in every value is refused before it reaches a command', () => {
    const canary = '/tmp/vncplay-fw-canary';
    for (const args of [
      { port: `5901;touch ${canary}` },
      { port: 5901, source: `$(touch ${canary})` },
      { port: 5901, comment: `"; touch ${canary}; "` },
    ]) {
      expect(checkArgs(firewall, args)).toBeDefined();
    }
    // the rollback script is shell: run it through sh -n (parse only) to prove it is well-formed
    const before = rulesFromArgs({ port: 5901, comment: 'a (b) c' });
    execFileSync('sh', ['-n', '-c', rollbackScript(nftFacts(before), before, true)]);
  });
});

describe('--diff (golden)', () => {
  it('adding an accept in front of an existing drop', () => {
    const cur = rulesFromArgs({ port: 5901, action: 'drop' });
    const changes = planFirewall({ port: 5901, source: '198.18.0.12', action: 'accept', comment: 'h2' }, nftFacts(cur));
    expect(renderDiffs(changes.flatMap((c) => (c.diff ? [c.diff] : [])))).toBe(
      [
        '--- before: nftables table inet vncplay',
        '+++ after: nftables table inet vncplay',
        '@@ -1 +1,2 @@',
        '+vncplay/1 tcp 5901 198.18.0.12/32 accept # h2',
        ' vncplay/1 tcp 5901 any drop',
        '',
        '',
      ].join('\n'),
    );
  });
});

describe('loose Ansible types', () => {
  it('persistent: "yes" and rollback_timeout: "60" are accepted', async () => {
    expect(checkArgs(firewall, { port: 5901, persistent: 'yes', rollback_timeout: '60' })).toBeUndefined();
    expect(checkArgs(firewall, { port: 5901, rollback_timeout: '2' })).toMatch(/rollback_timeout/);
    const changes = firewall.plan(parsedArgs(firewall, { port: 5901, persistent: 'yes' }), nftFacts([]));
    expect(changes.map((c) => c.summary)).toEqual([expect.stringMatching(/^add/), expect.stringMatching(/^persist/)]);
  });
});
