/** The recorded runs, for the `runs`, `resume` and `restore` commands. */
import { readdir } from 'node:fs/promises';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { Actions, Selection } from '../../core/selection.js';
import { type Env, isRunId, journalPathFor, runsDir } from './paths.js';
import { readJournal } from './reader.js';
import type { HeaderRecord, JournalTarget, RunEndState } from './records.js';

export interface RunCounts {
  steps: number;
  succeeded: number;
  alreadyDone: number;
  failed: number;
  skipped: number;
  /** Intent recorded, outcome not: the call may or may not have happened. */
  unknown: number;
  /** Neither intent nor outcome. */
  notStarted: number;
}

export interface RunListing {
  runId: string;
  path: string;
  createdAt: string;
  /** DPS host, hub hosts, sandbox or not; undefined for a journal that does not record it (older versions). */
  target?: JournalTarget;
  selection: Selection;
  actions?: Actions;
  /** `interrupted` when the journal has no end record (the process stopped, or is still running). */
  state: RunEndState;
  counts: RunCounts;
  restoreOf?: string;
  /** The restore run(s) of this run, oldest first (normally one: a second restore is refused). */
  restoredBy?: string[];
  torn: boolean;
  /** Set when the journal could not be read at all; the other fields are then placeholders. */
  error?: string;
}

/** Every run, newest first. An unreadable journal is listed with its error rather than hiding it. */
export const listRuns = async (env: Env = process.env): Promise<RunListing[]> => {
  const dir = runsDir(env);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const ids = names
    .filter((n) => n.endsWith('.jsonl') && isRunId(n.slice(0, -'.jsonl'.length)))
    .map((n) => n.slice(0, -'.jsonl'.length))
    .sort()
    .reverse();
  const out: RunListing[] = [];
  for (const runId of ids) out.push(await describeRun(runId, join(dir, `${runId}.jsonl`)));
  for (const r of [...out].reverse()) {
    if (!r.restoreOf) continue;
    const of = out.find((o) => o.runId === r.restoreOf);
    if (of) of.restoredBy = [...(of.restoredBy ?? []), r.runId];
  }
  return out;
};

/** The target a journal header records, or undefined when it records none (a journal of an older version). */
export const targetOf = (header: HeaderRecord): JournalTarget | undefined => {
  const t = header.target as Partial<JournalTarget> | undefined;
  if (!t || typeof t.dpsHost !== 'string' || t.dpsHost === '') return undefined;
  return {
    dpsHost: t.dpsHost,
    hubHosts: Array.isArray(t.hubHosts) ? t.hubHosts.filter((h): h is string => typeof h === 'string') : [],
    ...(typeof t.sandbox === 'boolean' ? { sandbox: t.sandbox } : {}),
    ...(typeof t.sandboxState === 'string' && t.sandboxState !== '' ? { sandboxState: t.sandboxState } : {}),
  };
};

/** Host names compare without case (DNS). */
export const sameHost = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

const describeRun = async (runId: string, path: string): Promise<RunListing> => {
  try {
    const j = await readJournal(path);
    const counts: RunCounts = {
      steps: j.plan?.steps.length ?? 0,
      succeeded: 0,
      alreadyDone: 0,
      failed: 0,
      skipped: 0,
      unknown: j.unknownSteps.length,
      notStarted: 0,
    };
    for (const r of j.results.values()) counts[r.outcome]++;
    counts.notStarted = Math.max(
      0,
      counts.steps - counts.succeeded - counts.alreadyDone - counts.failed - counts.skipped - counts.unknown,
    );
    const target = targetOf(j.header);
    return {
      runId,
      path,
      createdAt: j.header.createdAt,
      ...(target ? { target } : {}),
      selection: j.header.selection,
      ...(j.header.actions ? { actions: j.header.actions } : {}),
      state: j.endState ?? 'interrupted',
      counts,
      ...(j.header.restoreOf ? { restoreOf: j.header.restoreOf } : {}),
      torn: j.torn,
    };
  } catch (e) {
    return {
      runId,
      path,
      createdAt: '',
      selection: { kind: 'enrollment', registrationId: '' },
      state: 'interrupted',
      counts: { steps: 0, succeeded: 0, alreadyDone: 0, failed: 0, skipped: 0, unknown: 0, notStarted: 0 },
      torn: false,
      error: (e as Error).message,
    };
  }
};

/** The journal path of a recorded run, or undefined when there is none. Throws on a malformed ID. */
export const findRun = async (runId: string, env: Env = process.env): Promise<string | undefined> => {
  const path = journalPathFor(runId, env);
  try {
    await access(path);
    return path;
  } catch {
    return undefined;
  }
};

const unfinished = (r: RunListing): boolean =>
  !r.error && (r.state === 'interrupted' || r.state === 'aborted');

/**
 * The newest run that did not finish (for `resume` without a run ID), among the runs recorded against
 * `dpsHost` when it is given: a run of another target (or of an unknown one) is never picked by default.
 * `elsewhere` counts the unfinished runs left out for that reason.
 */
export const latestUnfinishedRun = async (
  env: Env = process.env,
  dpsHost?: string,
): Promise<{ run: RunListing | undefined; elsewhere: RunListing[] }> => {
  const all = (await listRuns(env)).filter(unfinished);
  if (dpsHost === undefined) return { run: all[0], elsewhere: [] };
  const mine = (r: RunListing) => r.target !== undefined && sameHost(r.target.dpsHost, dpsHost);
  return { run: all.find(mine), elsewhere: all.filter((r) => !mine(r)) };
};
