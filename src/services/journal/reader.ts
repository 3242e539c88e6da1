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

/** The journal's lines as records: torn lines (a write cut off) and corrupt records (whole, but damaged) apart. */
function readRecords(text: string): {
  records: JournalRecord[];
  tornLines: number[];
  corrupt: { line: number; type: string; problem: string }[];
} {
  const records: JournalRecord[] = [];
  const tornLines: number[] = [];
  const corrupt: { line: number; type: string; problem: string }[] = [];
  text.split('\n').forEach((line, i) => {
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
    if (problem) corrupt.push({ line: i + 1, type: record.type, problem });
    else records.push(record);
  });
  return { records, tornLines, corrupt };
}

/** What the records say, in their order: each record updates the run's state as the writer meant it. */
class JournalFold {
  header: HeaderRecord | undefined;
  planRecord: PlanRecord | undefined;
  snapshot: RegistrationRecord[] = [];
  hasSnapshot = false;
  readonly results = new Map<string, StepResult>();
  readonly resultAt = new Map<string, string>();
  readonly pendingIntent = new Set<string>();
  readonly attempts = new Map<string, number>();
  readonly jobs = new Map<string, JobRecord[]>();
  readonly verdicts = new Map<string, ReenrollmentVerdict[]>();
  readonly progress = new Map<string, Map<string, NonNullable<StepResult['devices']>[number]>>();
  endState: RunEndState | undefined;

  apply(record: JournalRecord): void {
    switch (record.type) {
      case 'header':
        this.header ??= record;
        break;
      case 'plan':
        this.planRecord = record;
        break;
      case 'snapshot':
        this.snapshot = record.records;
        this.hasSnapshot = true;
        break;
      case 'intent':
        this.pendingIntent.add(record.stepId);
        this.attempts.set(record.stepId, (this.attempts.get(record.stepId) ?? 0) + 1);
        break;
      case 'outcome':
        this.outcome(record);
        break;
      case 'progress':
        this.progressOf(record);
        break;
      case 'job':
        this.jobs.set(record.stepId, [...(this.jobs.get(record.stepId) ?? []), record]);
        break;
      case 'verify':
        this.verdicts.set(record.stepId, record.verdicts);
        break;
      case 'mark':
        // A resumed run is running again: an earlier end no longer describes it.
        if (record.mark === 'resumedRun' || record.mark === 'retryFailed') this.endState = undefined;
        break;
      case 'end':
        this.endState = record.state;
        break;
    }
  }

  private outcome(record: Extract<JournalRecord, { type: 'outcome' }>): void {
    const id = record.result.stepId;
    this.pendingIntent.delete(id);
    this.results.set(id, record.result);
    this.progress.delete(id);
    this.jobs.delete(id);
    if (typeof record.at === 'string') this.resultAt.set(id, record.at);
  }

  private progressOf(record: Extract<JournalRecord, { type: 'progress' }>): void {
    // The part settled: nothing of the step is outstanding (its next call writes a new intent).
    this.pendingIntent.delete(record.stepId);
    // The step is running again (retry): an earlier outcome no longer describes it.
    this.results.delete(record.stepId);
    const devices = this.progress.get(record.stepId) ?? new Map();
    this.progress.set(record.stepId, devices);
    for (const d of record.devices) devices.set(d.id, d);
  }
}

export const parseJournal = (path: string, text: string): JournalContents => {
  const { records, tornLines, corrupt } = readRecords(text);
  const first = corrupt[0];
  if (first !== undefined) {
    const more = corrupt.length > 1 ? ` (and ${plural(corrupt.length - 1, 'more line')})` : '';
    throw journalError(
      'corrupt',
      `the run journal ${path} is corrupt: line ${first.line} (${sanitize(first.type)} record) ${sanitize(first.problem)}${more}. ` +
        'Its run cannot be resumed or restored from it; nothing was changed. Check that line, or plan and run again.',
    );
  }
  const fold = new JournalFold();
  for (const record of records) fold.apply(record);
  const { header, planRecord, snapshot, results, pendingIntent } = fold;
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
    hasSnapshot: fold.hasSnapshot,
    results,
    resultAt: fold.resultAt,
    unknownSteps: [...pendingIntent],
    progress: new Map([...fold.progress].map(([id, m]) => [id, [...m.values()]])),
    jobs: fold.jobs,
    attempts: fold.attempts,
    verdicts: fold.verdicts,
    torn: tornLines.length > 0,
    tornLines,
    endState: fold.endState,
  };
};
