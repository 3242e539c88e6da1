/**
 * The shape of each journal record, checked when a journal is read back: a record that parses but lacks
 * what `resume` and `restore` rely on is corrupt (reported with its line), never half-used. Objects are
 * loose: fields added later (or by newer versions) pass.
 */
import { z } from 'zod';

const str = z.string();
const outcome = z.enum(['succeeded', 'alreadyDone', 'failed', 'skipped']);

const selection = z.discriminatedUnion('kind', [
  z.looseObject({ kind: z.literal('enrollment'), registrationId: str }),
  z.looseObject({ kind: z.literal('group'), groupId: str }),
  z.looseObject({
    kind: z.literal('groupDevices'),
    groupId: str,
    devices: z.array(z.looseObject({ registrationId: str, certificatePem: str.optional() })),
  }),
  z.looseObject({
    kind: z.literal('devices'),
    ids: z.array(str),
    parts: z
      .looseObject({
        enrollments: z.array(str),
        groups: z.array(
          z.looseObject({
            groupId: str,
            devices: z.array(z.looseObject({ registrationId: str, certificatePem: str.optional() })),
          }),
        ),
        unenrolled: z.array(str),
      })
      .optional(),
  }),
]);

const actions = z.looseObject({
  disenroll: z.enum(['disable', 'delete']),
  deregister: z.enum(['disable', 'delete', 'none']),
  deleteRegistrations: z.boolean(),
  deleteGroup: z.boolean(),
});

const step = z.looseObject({
  id: str,
  phase: str,
  op: z.looseObject({ kind: str }),
  call: str,
  destructive: z.boolean(),
  registrationIds: z.array(str),
});

const stepResult = z.looseObject({
  stepId: str,
  outcome,
  attempts: z.number(),
  message: str.optional(),
  devices: z.array(z.looseObject({ id: str, outcome, message: str.optional() })).optional(),
});

const SCHEMAS: Record<string, z.ZodType> = {
  header: z.looseObject({
    type: z.literal('header'),
    v: z.number(),
    runId: str,
    createdAt: str,
    // Journals of older versions have no target: listed as unknown, never refused for it.
    target: z.looseObject({ dpsHost: str, hubHosts: z.array(str) }).optional(),
    selection,
    actions,
    restoreOf: str.optional(),
  }),
  plan: z.looseObject({
    at: str,
    plan: z.looseObject({ selection, actions, steps: z.array(step), warnings: z.array(z.looseObject({})) }),
  }),
  snapshot: z.looseObject({ at: str, records: z.array(z.looseObject({ registrationId: str, status: str })) }),
  intent: z.looseObject({ at: str, stepId: str, attempt: z.number(), call: str }),
  outcome: z.looseObject({ at: str, result: stepResult }),
  progress: z.looseObject({
    at: str,
    stepId: str,
    devices: z.array(z.looseObject({ id: str, outcome, message: str.optional() })),
  }),
  job: z.looseObject({
    at: str,
    stepId: str,
    hub: str,
    jobId: str,
    jobType: z.enum(['export', 'import']),
    blobs: z.array(str),
    container: str.optional(),
  }),
  verify: z.looseObject({
    at: str,
    stepId: str,
    verdicts: z.array(z.looseObject({ registrationId: str, verdict: str })),
  }),
  mark: z.looseObject({ at: str, mark: str }),
  end: z.looseObject({
    at: str,
    state: z.enum(['completed', 'completedWithFailures', 'aborted', 'interrupted']),
  }),
};

/** Undefined when the record is well formed (or of a type this version does not know), else what is wrong. */
export const recordProblem = (record: { type: string }): string | undefined => {
  const schema = SCHEMAS[record.type];
  if (!schema) return undefined;
  const r = schema.safeParse(record);
  if (r.success) return undefined;
  const issue = r.error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : 'the record';
  return `${where}: ${issue?.code === 'invalid_type' && issue.message.includes('undefined') ? 'missing' : (issue?.message ?? 'invalid')}`;
};
