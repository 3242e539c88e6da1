/**
 * The headless commands: plan, run, resume, restore, verify, runs. They drive the same backend,
 * executor and journal as the TUI. Exit codes: 0 done, 1 some steps failed (verify: not all blocked),
 * 2 bad usage or input, 3 aborted or interrupted (resumable).
 */
import { join, resolve } from 'node:path';
import type { Plan, PlanRefusal } from '../core/plan-types.js';
import type { RunHandle, RunSummary, TargetInfo } from '../services/backend.js';
import { commandLine } from '../core/invocation.js';
import {
  findRun,
  groupsDeletedWithRecordsLeft,
  stateDir,
  type JournalTarget,
  latestUnfinishedRun,
  listRuns,
  readJournal,
  sameHost,
  targetOf,
} from '../services/journal/index.js';
import type { SessionBackend } from '../services/session/create-backend.js';
import { DeprovisionSession, type SessionEvent } from '../services/session/deprovision-session.js';
import { type ActionFlags, parseActions, parseSelector, type SelectorFlags } from './args.js';
import type { RunProgress } from '../core/run-events.js';
import {
  formatPlan,
  formatProgress,
  formatRefusal,
  formatGroupsLeft,
  shellWord,
  formatRuns,
  formatSummary,
  formatVerdicts,
} from './format.js';
import { EXIT } from './exit-codes.js';
import { UserError } from '../core/errors.js';
import { safeJson, sanitize } from '../core/text.js';
import { attemptAll, formatAttempts } from './verify-attempt.js';
import { hubReadLines } from '../core/hub-read-path.js';

export { EXIT };

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env?: Record<string, string | undefined>;
}

export interface OutputFlags {
  json?: boolean;
}

function refused(refusal: PlanRefusal, io: Io, json: boolean | undefined): number {
  if (json) io.stdout(`${safeJson({ refused: refusal })}\n`);
  io.stderr(`iot-deprovision: ${formatRefusal(refusal)}\n`);
  return EXIT.usage;
}

/**
 * Sends a planning event and waits for the plan: a refusal is printed (exit 2 as the answer); a failure
 * is thrown as it was (the CLI's edge explains it).
 */
async function planThrough(
  session: DeprovisionSession,
  event: SessionEvent,
  io: Io,
  json: boolean | undefined,
): Promise<Plan | number> {
  session.send(event);
  const view = await session.rest();
  if (view.state === 'refused' && view.context.refusal) return refused(view.context.refusal, io, json);
  if (view.state !== 'planned' || !view.context.plan) throw view.context.failure;
  return view.context.plan;
}

export async function planCommand(
  backend: SessionBackend,
  flags: SelectorFlags & ActionFlags & OutputFlags,
  io: Io,
): Promise<number> {
  const selection = parseSelector(flags);
  const actions = parseActions(flags, selection);
  const plan = await planThrough(
    new DeprovisionSession(backend),
    { type: 'PLAN', selection, actions },
    io,
    flags.json,
  );
  if (typeof plan === 'number') return plan;
  io.stdout(flags.json ? `${safeJson(plan)}\n` : `${formatPlan(plan)}\n`);
  return EXIT.done;
}

/**
 * Prints the run's progress as it changes (a line at most twice a second), and again now and then while
 * no event comes (a long wait). Returns the function that stops it.
 */
export function printProgress(handle: RunHandle, io: Io, json: boolean | undefined): () => void {
  let lastLine = '';
  let lastAt = 0;
  const show = (p: RunProgress) => {
    const now = Date.now();
    const line = formatProgress(p, now);
    // A line when something visible changed, at most twice a second.
    if (line === lastLine || now - lastAt < 500) return;
    lastLine = line;
    lastAt = now;
    if (json)
      io.stdout(
        `${safeJson({ event: 'progress', state: p.state, phase: p.phase, phases: p.phases, throttled: p.throttled, ...(p.jobs ? { jobs: p.jobs } : {}) })}\n`,
      );
    else io.stderr(`${line}\n`);
  };
  const unsubscribe = handle.subscribe(show);
  // Long waits send no event: the line is looked at again now and then, so an update held back by the
  // twice-a-second cap, or a wait that ended, is not left standing for minutes.
  const ticker = setInterval(() => show(handle.progress()), 2000);
  ticker.unref();
  return () => {
    clearInterval(ticker);
    unsubscribe();
  };
}

/** Follows the session's run to its end, printing progress; returns the exit code. */
async function followRun(session: DeprovisionSession, io: Io, json: boolean | undefined): Promise<number> {
  const started = await session.when('running', 'startFailed', 'failed');
  const handle = started.context.handle;
  if (started.state !== 'running' || !handle) throw started.context.failure;
  const ids = { runId: handle.runId, journal: handle.journalPath };
  if (json) io.stdout(`${safeJson({ event: 'started', ...ids })}\n`);
  else io.stderr(`Run ${handle.runId} started; journal ${handle.journalPath}\n`);
  const stopFollowing = printProgress(handle, io, json);
  const ended = await session.when('settled', 'interrupted');
  stopFollowing();
  const summary = ended.context.summary;
  if (ended.state !== 'settled' || !summary) throw ended.context.failure;
  const progress = handle.progress();
  if (json) io.stdout(`${safeJson({ event: 'summary', ...summary, phases: progress.phases })}\n`);
  else io.stdout(`${formatSummary(summary, progress)}\n`);
  if (summary.refusal) return refusedRun(summary, io);
  return summary.state === 'completed' ? EXIT.done : summary.state === 'aborted' ? EXIT.aborted : EXIT.failed;
}

/** Phases whose steps change the services (snapshot and verify only read). */
const CHANGING_PHASES = ['disenroll', 'deregister', 'cleanup'];

/**
 * A run stopped by a refused change (401/403). Nothing changed before it: bad input (exit 2), the
 * permission named. Some change was made first: interrupted (exit 3), to be finished once granted.
 */
function refusedRun(summary: RunSummary, io: Io): number {
  const changed = summary.results.some(
    (r) =>
      (r.outcome === 'succeeded' || r.devices?.some((d) => d.outcome === 'succeeded')) &&
      CHANGING_PHASES.includes(r.stepId.split(':')[0]),
  );
  const resume = commandLine('resume', summary.runId);
  io.stderr(
    `iot-deprovision: the run stopped at a change the service refused: ${summary.refusal}. ` +
      (changed
        ? `Changes made before it stand (see the journal). Once the permission is granted, finish it with: ${resume}\n`
        : `Nothing was changed. Once the permission is granted, run it again (or: ${resume}).\n`),
  );
  return changed ? EXIT.aborted : EXIT.usage;
}

/** Confirms the session's plan and follows the run. */
async function executePlan(
  session: DeprovisionSession,
  plan: Plan,
  io: Io,
  json: boolean | undefined,
): Promise<number> {
  if (!json) io.stderr(`${formatPlan(plan)}\n`);
  session.send({ type: 'CONFIRM' });
  const code = await followRun(session, io, json);
  // Devices on hubs the tool could not reach were left as they were: the run is not done for them.
  const unreached = plan.warnings.filter((w) => w.code === 'hub-without-credentials');
  if (unreached.length === 0) return code;
  if (json) io.stdout(`${safeJson({ event: 'not-done', warnings: unreached })}\n`);
  else for (const w of unreached) io.stdout(`NOT DONE: ${sanitize(w.message)}\n`);
  return code === EXIT.done ? EXIT.failed : code;
}

export async function runCommand(
  backend: SessionBackend,
  flags: SelectorFlags & ActionFlags & OutputFlags & { yes?: boolean },
  io: Io,
): Promise<number> {
  const selection = parseSelector(flags);
  const actions = parseActions(flags, selection);
  if (!flags.yes) {
    throw new UserError(
      'run changes the services without asking: review it with `iot-deprovision plan ...` first, then add --yes ' +
        '(or use the TUI, which asks for confirmation)',
    );
  }
  const session = new DeprovisionSession(backend);
  const plan = await planThrough(session, { type: 'PLAN', selection, actions }, io, flags.json);
  if (typeof plan === 'number') return plan;
  return executePlan(session, plan, io, flags.json);
}

/** The target in words: "DPS host (sandbox)". */
const targetWords = (t: { dpsHost: string; sandbox?: boolean }): string =>
  `DPS ${sanitize(t.dpsHost)}${t.sandbox ? ' (sandbox)' : ''}`;

/** Whether a recorded run was made against the target these credentials reach. */
export function compareTarget(
  recorded: JournalTarget | undefined,
  given: TargetInfo,
): 'same' | 'unknown' | 'different' {
  if (!recorded) return 'unknown';
  if (!sameHost(recorded.dpsHost, given.dpsHost)) return 'different';
  if (recorded.sandbox !== undefined && recorded.sandbox !== (given.kind === 'sandbox')) return 'different';
  return 'same';
}

/**
 * The journal of a recorded run that `verb` (resume, restore) may act on with these credentials: a run
 * recorded against another target is refused before any service call, naming both targets.
 */
async function journalOf(
  backend: SessionBackend,
  runId: string | undefined,
  verb: 'resume' | 'restore',
  io: Io,
): Promise<string> {
  const given = backend.target;
  if (runId === undefined) {
    const { run, elsewhere } = await latestUnfinishedRun(io.env, given.dpsHost);
    const mine = run && compareTarget(run.target, given) === 'same' ? run : undefined;
    if (mine) return mine.path;
    const others = [...(run ? [run] : []), ...elsewhere];
    if (others.length === 0)
      throw new UserError('no interrupted or aborted run to resume (see `iot-deprovision runs`)');
    const named = others
      .slice(0, 3)
      .map((r) => `${r.runId} (${r.target ? targetWords(r.target) : 'target unknown'})`)
      .join(', ');
    throw new UserError(
      `no interrupted or aborted run of ${targetWords({ dpsHost: given.dpsHost, sandbox: given.kind === 'sandbox' })} to resume; ` +
        `${others.length === 1 ? 'one run' : `${others.length} runs`} of another or an unknown target ` +
        `${others.length === 1 ? 'is' : 'are'} unfinished: ${named}${others.length > 3 ? ', ...' : ''}. ` +
        'Name the run and give the target flags it was recorded with (see `iot-deprovision runs`).',
    );
  }
  const path = await findRun(runId, io.env);
  if (!path) throw new UserError(`no recorded run ${sanitize(runId)} (see \`iot-deprovision runs\`)`);
  const recorded = targetOf((await readJournal(path)).header);
  const given_ = { dpsHost: given.dpsHost, sandbox: given.kind === 'sandbox' };
  switch (compareTarget(recorded, given)) {
    case 'different':
      throw new UserError(
        `run ${runId} was recorded against ${targetWords(recorded as JournalTarget)}, but the credentials given are for ` +
          `${targetWords(given_)}: nothing changed. To ${verb} it, give the target flags of that run.`,
      );
    case 'unknown':
      io.stderr(
        `iot-deprovision: note: run ${runId}'s journal does not record its target (an older version wrote it): ` +
          `acting on ${targetWords(given_)} as given; make sure it is the one that run used.\n`,
      );
      break;
    case 'same':
      break;
  }
  return path;
}

export async function resumeCommand(
  backend: SessionBackend,
  runId: string | undefined,
  flags: OutputFlags & { retryFailed?: boolean },
  io: Io,
): Promise<number> {
  const path = await journalOf(backend, runId, 'resume', io);
  const session = new DeprovisionSession(backend);
  session.send({ type: 'RESUME', journalPath: path, retryFailed: flags.retryFailed });
  return followRun(session, io, flags.json);
}

export async function restoreCommand(
  backend: SessionBackend,
  runId: string,
  flags: OutputFlags & { yes?: boolean },
  io: Io,
): Promise<number> {
  const path = await journalOf(backend, runId, 'restore', io);
  const session = new DeprovisionSession(backend);
  const plan = await planThrough(session, { type: 'PLAN_RESTORE', journalPath: path }, io, flags.json);
  if (typeof plan === 'number') return plan;
  if (!flags.yes) {
    io.stdout(flags.json ? `${safeJson(plan)}\n` : `${formatPlan(plan)}\n`);
    throw new UserError('restore changes the services: review the plan above, then add --yes');
  }
  if (!plan.steps.some((s) => s.destructive)) {
    io.stdout(
      flags.json
        ? `${safeJson({ event: 'nothing-to-restore', plan })}\n`
        : `${formatPlan(plan)}\nNothing to restore.\n`,
    );
    return EXIT.done;
  }
  return executePlan(session, plan, io, flags.json);
}

export async function verifyCommand(
  backend: SessionBackend,
  flags: SelectorFlags & OutputFlags & { attempt?: boolean },
  io: Io,
): Promise<number> {
  const selection = parseSelector(flags);
  const attempt = backend.attemptRegistration;
  if (flags.attempt && !attempt) {
    throw new UserError(
      '--attempt registers each device with its own key or certificate, which only the sandbox holds: ' +
        'use it with --sandbox',
    );
  }
  const session = new DeprovisionSession(backend);
  session.send({ type: 'VERIFY', selection });
  const verified = await session.rest();
  if (verified.state !== 'verified' || !verified.context.verdicts) throw verified.context.failure;
  const verdicts = verified.context.verdicts;
  const blocked = verdicts.every((v) => v.verdict === 'blocked');
  // Which path each hub's read took (queries, or one export job without keys).
  const hubReads = backend.hubReads();
  const readLines = hubReadLines(hubReads)
    .map((l) => `${l}\n`)
    .join('');
  if (!flags.attempt || !attempt) {
    io.stdout(
      flags.json ? `${safeJson({ verdicts, hubReads })}\n` : `${formatVerdicts(verdicts)}\n${readLines}`,
    );
    return blocked ? EXIT.done : EXIT.failed;
  }
  // After the verdicts: a device that gets in changes what a later read would show.
  const attempts = await attemptAll(verdicts, (id) => attempt(id));
  io.stdout(
    flags.json
      ? `${safeJson({ verdicts, hubReads, attempts })}\n`
      : `${formatVerdicts(verdicts)}\n${readLines}${formatAttempts(attempts)}\n`,
  );
  return blocked && !attempts.some((a) => a.agreement === 'differs') ? EXIT.done : EXIT.failed;
}

export async function runsCommand(flags: OutputFlags, io: Io): Promise<number> {
  const runs = await listRuns(io.env);
  const groupsLeft = await groupsDeletedWithRecordsLeft(io.env);
  if (flags.json) {
    io.stdout(`${safeJson({ runs, groupsLeftWithRecords: groupsLeft })}\n`);
    return EXIT.done;
  }
  const defaultState = join(stateDir(io.env ?? process.env), 'sandbox.json');
  const left = formatGroupsLeft(groupsLeft, (g) =>
    !g.sandbox
      ? []
      : g.sandboxState && resolve(g.sandboxState) !== resolve(defaultState)
        ? ['--sandbox', '--state', shellWord(g.sandboxState)]
        : ['--sandbox'],
  );
  io.stdout(`${formatRuns(runs)}\n${left ? `\n${left}\n` : ''}`);
  return EXIT.done;
}
