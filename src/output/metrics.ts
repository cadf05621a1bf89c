import type { HostStats } from '../runner/events.js';
import { replaceFile } from './replace-file.js';

export interface MetricsInput {
  exitCode: number;
  durationMs: number;
  stats: Record<string, HostStats>;
  /** Drill recovery time in seconds, when the run was a failover drill. */
  drillRtoSeconds?: number;
}

/**
 * Prometheus textfile-collector format for node_exporter. Written to a temp file and renamed, so the collector
 * never reads half a file; the temp name is random and never followed if it is a link (replace-file.ts).
 */
export function formatMetrics(playbook: string, run: MetricsInput, nowSeconds = Date.now() / 1000): string {
  const pb = escapeLabel(playbook);
  const lines = [
    '# HELP vncplay_run_success 1 when the last run of the playbook exited 0.',
    '# TYPE vncplay_run_success gauge',
    `vncplay_run_success{playbook="${pb}"} ${run.exitCode === 0 ? 1 : 0}`,
    '# HELP vncplay_run_exit_code Exit code of the last run.',
    '# TYPE vncplay_run_exit_code gauge',
    `vncplay_run_exit_code{playbook="${pb}"} ${run.exitCode}`,
    '# HELP vncplay_run_duration_seconds Wall time of the last run.',
    '# TYPE vncplay_run_duration_seconds gauge',
    `vncplay_run_duration_seconds{playbook="${pb}"} ${(run.durationMs / 1000).toFixed(3)}`,
    '# HELP vncplay_run_timestamp_seconds When the last run ended.',
    '# TYPE vncplay_run_timestamp_seconds gauge',
    `vncplay_run_timestamp_seconds{playbook="${pb}"} ${Math.round(nowSeconds)}`,
  ];
  const perHost: [keyof HostStats, string][] = [
    ['ok', 'Tasks ok on the host in the last run.'],
    ['changed', 'Tasks that changed the host in the last run.'],
    ['failed', 'Tasks that failed on the host in the last run.'],
    ['unreachable', 'Whether the host was unreachable in the last run.'],
  ];
  for (const [key, help] of perHost) {
    lines.push(`# HELP vncplay_host_${key}_tasks ${help}`, `# TYPE vncplay_host_${key}_tasks gauge`);
    for (const [host, s] of Object.entries(run.stats)) {
      lines.push(`vncplay_host_${key}_tasks{playbook="${pb}",host="${escapeLabel(host)}"} ${s[key]}`);
    }
  }
  if (run.drillRtoSeconds !== undefined) {
    lines.push(
      '# HELP vncplay_drill_rto_seconds Measured recovery time of the last failover drill.',
      '# TYPE vncplay_drill_rto_seconds gauge',
      `vncplay_drill_rto_seconds{playbook="${pb}"} ${run.drillRtoSeconds.toFixed(3)}`,
    );
  }
  return lines.join('\n') + '\n';
}

export async function writeMetricsFile(file: string, playbook: string, run: MetricsInput): Promise<void> {
  await replaceFile(file, formatMetrics(playbook, run));
}

function escapeLabel(v: string): string {
  return v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}
