// The daemon's metrics in the Prometheus text exposition format (version 0.0.4), named
// after Prometheus's own config-reload metrics so existing alerts read them naturally.
import type { ConfigStatus } from 'txconfig';

/** The Content-Type of {@link renderMetrics}' output. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** What the metrics are computed from. */
export interface MetricsInput {
  readonly status: ConfigStatus;
  readonly containers: number;
  readonly artifacts: number;
}

/** Renders the store status and engine figures as Prometheus text. */
export function renderMetrics({ status, containers, artifacts }: MetricsInput): string {
  const lines: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string, samples: readonly (readonly [string, number])[]): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${formatValue(value)}`);
  };
  const { counters } = status;
  metric('txconfig_config_last_reload_successful', 'gauge', 'Whether the last config reload succeeded (1) or failed (0).', [
    ['', status.lastReloadSuccessful ? 1 : 0],
  ]);
  metric('txconfig_config_last_reload_success_timestamp_seconds', 'gauge', 'When the last successful config reload ended, in seconds since the epoch.', [
    ['', status.lastSuccessAt === null ? 0 : status.lastSuccessAt / 1000],
  ]);
  metric('txconfig_config_reloads_total', 'counter', 'Config reloads by how they ended.', [
    ['{result="applied"}', counters.applied],
    ['{result="unchanged"}', counters.unchanged],
    ['{result="rejected"}', counters.rejected],
    ['{result="failed"}', counters.failed],
    ['{result="aborted"}', counters.aborted],
  ]);
  metric('txconfig_config_reload_attempts_total', 'counter', 'Config reloads begun.', [['', counters.attempted]]);
  metric('txconfig_config_generation', 'gauge', 'Generation of the live config.', [['', status.generation]]);
  // The digest only: a label that changed on every reload (the generation) would make
  // every reload a new series. The same config keeps its series, whatever its generation.
  metric('txconfig_config_info', 'gauge', 'The live config: its digest as a label, value 1.', [[`{digest="${escapeLabel(status.digest)}"}`, 1]]);
  metric('txconfig_pinned_generations', 'gauge', 'Old generations still pinned by readers.', [['', status.pinnedGenerations.length]]);
  metric('txconfig_listener_errors_total', 'counter', 'Subscriber calls that threw or rejected.', [['', status.listenerErrors]]);
  metric('runtime_wrapper_containers', 'gauge', 'Containers running.', [['', containers]]);
  metric('runtime_wrapper_artifacts', 'gauge', 'Wrapper scripts on disk.', [['', artifacts]]);
  return `${lines.join('\n')}\n`;
}

/** A label value with `\`, `"` and newlines escaped, as the format requires. */
function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  return String(value);
}
