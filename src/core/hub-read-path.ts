/**
 * How verify reads one hub's identities: by queries (`SELECT * FROM devices WHERE deviceId IN [...]`,
 * up to 100 IDs each, paced to the hub's query budget) or through ONE export job without keys (the whole
 * registry to job storage, filtered here). `auto` takes the export job where the queries would take
 * longer than one job, and only with job storage configured: the same model as the step path
 * (hub-path.ts). Pure: the choice, its reason and both estimates.
 */
import { DEFAULT_JOB_MODEL, type HubPathChoice, type JobModel } from './hub-path.js';
import { LOOKUP_IDS_PER_QUERY } from './hub-lookup.js';
import { plural, sanitize, shortHost } from './text.js';

export type HubReadPath = 'queries' | 'export';

export interface HubReadDecision {
  path: HubReadPath;
  reason: string;
  /** Queries the query path would make (a query per LOOKUP_IDS_PER_QUERY IDs). */
  queries: number;
  /** How long those queries take at the hub's query budget, in seconds. */
  queriesSeconds: number;
  /** One export job: its overhead plus the devices at the job rate, in seconds. */
  exportSeconds: number;
}

/** What verify says about one hub's read (a line of its output, a field of its --json). */
export interface HubReadReport {
  hub: string;
  path: HubReadPath | 'failed';
  reason: string;
  /** Device IDs read on the hub. */
  deviceIds: number;
}

export const estimateQueries = (deviceIds: number): number => Math.ceil(deviceIds / LOOKUP_IDS_PER_QUERY);

export const estimateQueriesSeconds = (deviceIds: number, queriesPerMinute: number): number =>
  (estimateQueries(deviceIds) * 60) / Math.max(1, queriesPerMinute);

/**
 * One export job over these devices. The hub exports its whole registry, at least the devices read:
 * the estimate is a lower bound, which the choice accepts (its overhead dominates below 60,000 devices).
 */
export const estimateExportSeconds = (deviceIds: number, model: JobModel = DEFAULT_JOB_MODEL): number =>
  model.overheadSeconds + (deviceIds * 60) / model.devicesPerMinute;

const minutes = (seconds: number): string =>
  seconds < 90 ? `${Math.ceil(seconds)} s` : `${Math.ceil(seconds / 60).toLocaleString('en-US')} min`;

export function chooseHubReadPath(input: {
  choice: HubPathChoice;
  deviceIds: number;
  /** The hub's query budget (hub-lookup.ts hubQueriesPerMinute). */
  queriesPerMinute: number;
  storageConfigured: boolean;
  model?: JobModel;
}): HubReadDecision {
  const queries = estimateQueries(input.deviceIds);
  const queriesSeconds = estimateQueriesSeconds(input.deviceIds, input.queriesPerMinute);
  const exportSeconds = estimateExportSeconds(input.deviceIds, input.model);
  const base = { queries, queriesSeconds, exportSeconds };
  const cost = `${plural(queries, 'query', 'queries')}, ${minutes(queriesSeconds)}`;
  if (input.deviceIds === 0) return { path: 'queries', reason: 'no device ID to read', ...base };
  if (input.choice === 'calls') return { path: 'queries', reason: `--hub-path calls: ${cost}`, ...base };
  if (!input.storageConfigured)
    return { path: 'queries', reason: `${cost}; no job storage (--job-storage)`, ...base };
  if (input.choice === 'jobs') return { path: 'export', reason: '--hub-path jobs', ...base };
  if (queriesSeconds > exportSeconds)
    return { path: 'export', reason: `${cost} by queries; a job ~${minutes(exportSeconds)}`, ...base };
  return { path: 'queries', reason: `${cost}; a job ~${minutes(exportSeconds)}`, ...base };
}

const PATH_WORDS: Record<HubReadReport['path'], string> = {
  export: 'export job, no keys',
  queries: 'queries',
  failed: 'export job failed',
};

/** The output's width (an SSH terminal at 80x24). */
const WIDTH = 80;

/** One line per hub read, at most 80 columns: "  hub-eu.azure-devices.net: export job, no keys (...)". */
export function hubReadLines(reports: readonly HubReadReport[]): string[] {
  if (reports.length === 0) return [];
  const lines = reports.map((r) => {
    const what = `${PATH_WORDS[r.path]}, ${plural(r.deviceIds, 'ID')} (${sanitize(r.reason)})`;
    const full = `  ${sanitize(r.hub)}: ${what}`;
    const line = full.length <= WIDTH ? full : `  ${sanitize(shortHost(r.hub))}: ${what}`;
    return line.length <= WIDTH ? line : `${line.slice(0, WIDTH - 3)}...`;
  });
  return ['Hub reads:', ...lines];
}
