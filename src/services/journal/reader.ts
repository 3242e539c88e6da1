/** Reads a run journal back: what was planned, what happened to each step, how the run ended. */
import { readFile } from 'node:fs/promises';
import { plural, sanitize } from '../../core/text.js';
import type { ReenrollmentVerdict, RegistrationRecord } from '../../core/model.js';
import type { Plan, StepResult } from '../../core/plan-types.js';
import {
  type HeaderRecord,
  type JobRecord,
  journalError,
  type JournalRecord,
  type PlanRecord,
  type RunEndState,
} from './records.js';
import { recordProblem } from './schema.js';

export interface JournalContents {
  path: string;
  header: HeaderRecord;
  /** The plan with its snapshot re-attached; undefined when the run stopped before writing it. */
  plan: Plan | undefined;
  snapshot: RegistrationRecord[];
  /** True when a snapshot record was read (an empty snapshot is still a snapshot). */
  hasSnapshot: boolean;
  /** The latest outcome of each step that has one (and no later intent). */
  results: Map<string, StepResult>;
  /** When the latest outcome of each step was journaled (ISO). */
  resultAt: Map<string, string>;
  /** Steps with an intent after their last outcome: the call may or may not have happened. */
  unknownSteps: string[];
  /**
   * Devices of steps without an outcome that settled in part (progress records), by step: a resume
   * does not redo those that ended well.
   */
  progress: Map<string, StepResult['devices'] & object>;
  /**
   * Hub import/export jobs of steps without an outcome, by step, oldest first: a resume re-attaches to
   * them. A step's outcome ends its jobs (a later try starts its own).
   */
  jobs?: Map<string, JobRecord[]>;
  /** Attempts journaled per step (intents), over the whole run. */
  attempts: Map<string, number>;
  /** Verify results, by step. */
  verdicts: Map<string, ReenrollmentVerdict[]>;
  /** True when some line could not be read (a write torn by a crash); those lines are ignored. */
  torn: boolean;
  /** 1-based numbers of the lines that were ignored. */
  tornLines: number[];
  /** How the run ended; undefined when it never wrote an end (still running, or interrupted). */
  endState: RunEndState | undefined;
}

export const readJournal = async (path: string): Promise<JournalContents> => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw journalError('notFound', `No run journal at ${path}.`);
    throw journalError('io', `Could not read the run journal ${path}: ${(e as Error).message}`);
  }
  return parseJournal(path, text);
};

export const parseJournal = (path: string, text: string): JournalContents => {
  const lines = text.split('\n');
  const tornLines: number[] = [];
  let header: HeaderRecord | undefined;
  let planRecord: PlanRecord | undefined;
  let snapshot: RegistrationRecord[] = [];
  let hasSnapshot = false;
  const results = new Map<string, StepResult>();
  const resultAt = new Map<string, string>();
  const pendingIntent = new Set<string>();
  const attempts = new Map<string, number>();
  const jobs = new Map<string, JobRecord[]>();
  const verdicts = new Map<string, ReenrollmentVerdict[]>();
  const progress = new Map<string, Map<string, NonNullable<StepResult['devices']>[number]>>();
  let endState: RunEndState | undefined;
  const corrupt: { line: number; type: string; problem: string }[] = [];

  lines.forEach((line, i) => {
    if (line.length === 0) return;
    let record: JournalRecord;
    try {
      record = JSON.parse(line) as JournalRecord;
    } catch {
      tornLines.push(i + 1);
      return;
    }
    if (!record || typeof record !== 'object' || typeof record.type !== 'string') {
      tornLines.push(i + 1);
      return;
    }
    // Whole JSON that lacks what the reader relies on is not a torn write: the file was damaged or edited.
    const problem = recordProblem(record);
    if (problem) {
      corrupt.push({ line: i + 1, type: record.type, problem });
      return;
    }
    switch (record.type) {
      case 'header':
        header ??= record;
        break;
      case 'plan':
        planRecord = record;
        break;
      case 'snapshot':
        snapshot = record.records;
        hasSnapshot = true;
        break;
      case 'intent':
        pendingIntent.add(record.stepId);
        attempts.set(record.stepId, (attempts.get(record.stepId) ?? 0) + 1);
        break;
      case 'outcome':
        pendingIntent.delete(record.result.stepId);
        results.set(record.result.stepId, record.result);
        progress.delete(record.result.stepId);
        jobs.delete(record.result.stepId);
        if (typeof record.at === 'string') resultAt.set(record.result.stepId, record.at);
        break;
      case 'progress': {
        // The part settled: nothing of the step is outstanding (its next call writes a new intent).
        pendingIntent.delete(record.stepId);
        // The step is running again (retry): an earlier outcome no longer describes it.
        results.delete(record.stepId);
        const devices = progress.get(record.stepId) ?? new Map();
        progress.set(record.stepId, devices);
        for (const d of record.devices) devices.set(d.id, d);
        break;
      }
      case 'job':
        jobs.set(record.stepId, [...(jobs.get(record.stepId) ?? []), record]);
        break;
      case 'verify':
        verdicts.set(record.stepId, record.verdicts);
        break;
      case 'mark':
        // A resumed run is running again: an earlier end no longer describes it.
        if (record.mark === 'resumedRun' || record.mark === 'retryFailed') endState = undefined;
        break;
      case 'end':
        endState = record.state;
        break;
    }
  });
  const first = corrupt[0];
  if (first !== undefined) {
    const more = corrupt.length > 1 ? ` (and ${plural(corrupt.length - 1, 'more line')})` : '';
    throw journalError(
      'corrupt',
      `the run journal ${path} is corrupt: line ${first.line} (${sanitize(first.type)} record) ${sanitize(first.problem)}${more}. ` +
        'Its run cannot be resumed or restored from it; nothing was changed. Check that line, or plan and run again.',
    );
  }
  if (!header) {
    throw journalError(
      'corrupt',
      `${path} has no readable run header: it is not a run journal, or it was cut off at creation.`,
    );
  }
  for (const id of pendingIntent) results.delete(id);
  const plan = planRecord ? ({ ...planRecord.plan, snapshot } as Plan) : undefined;
  return {
    path,
    header,
    plan,
    snapshot,
    hasSnapshot,
    results,
    resultAt,
    unknownSteps: [...pendingIntent],
    progress: new Map([...progress].map(([id, m]) => [id, [...m.values()]])),
    jobs,
    attempts,
    verdicts,
    torn: tornLines.length > 0,
    tornLines,
    endState,
  };
};
