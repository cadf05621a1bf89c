import type { HostStats } from '../runner/events.js';

const columns: [keyof HostStats, number][] = [
  ['ok', 32],
  ['changed', 33],
  ['unreachable', 31],
  ['failed', 31],
  ['skipped', 36],
  ['rescued', 35],
  ['ignored', 35],
];

/** Ansible's PLAY RECAP block, character for character: host padded to 26, then `name=%-4s` per counter. */
export function formatRecap(hosts: Record<string, HostStats>, color = false): string {
  const lines = [banner('PLAY RECAP')];
  for (const name of Object.keys(hosts).sort()) {
    const s = hosts[name]!;
    const paint = (code: number, text: string, on: boolean): string => (color && on ? `\x1b[${code}m${text}\x1b[0m` : text);
    const hostColor = s.failed || s.unreachable ? 31 : s.changed ? 33 : 32;
    const counters = columns.map(([key, code]) => paint(code, `${key}=${String(s[key]).padEnd(4)}`, s[key] > 0));
    lines.push(`${paint(hostColor, name.padEnd(26), true)} : ${counters.join(' ')}`);
  }
  return lines.join('\n') + '\n';
}

/** Ansible's Display.banner: the title, a space, then stars up to 79 columns' worth past the title. */
export function banner(title: string, columns = 79): string {
  return `${title} ${'*'.repeat(Math.max(3, columns - title.length))}`;
}
