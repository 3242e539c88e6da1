export { type Env, isRunId, journalPathFor, newRunId, RUN_ID_PATTERN, runsDir, stateDir } from './paths.js';
export { type JournalContents, parseJournal, readJournal } from './reader.js';
export * from './records.js';
export { assertNoSecrets, scrubSecrets } from './redact.js';
export {
  findRun,
  latestUnfinishedRun,
  listRuns,
  type RunCounts,
  type RunListing,
  sameHost,
  targetOf,
} from './runs.js';
export {
  ensurePrivateDir,
  type JournalOptions,
  type NewJournalInput,
  openJournal,
  type RunJournal,
  reopenJournal,
} from './writer.js';
export { type GroupLeftWithRecords, groupsDeletedWithRecordsLeft, groupsLeftBy } from './leftovers.js';
