import { UserError } from '../../src/core/errors.js';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/core/plan-types.js';
import {
  assertNoSecrets,
  findRun,
  isRunId,
  journalPathFor,
  latestUnfinishedRun,
  listRuns,
  newRunId,
  openJournal,
  readJournal,
  reopenJournal,
  scrubSecrets,
  stateDir,
} from '../../src/services/journal/index.js';

let root: string;
let env: Record<string, string>;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'journal-'));
  env = { XDG_STATE_HOME: root, HOME: '/nonexistent' };
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const plan = (): Plan => ({
  selection: { kind: 'group', groupId: 'g1' },
  actions: { disenroll: 'disable', deregister: 'delete', deleteRegistrations: true, deleteGroup: false },
  steps: [
    {
      id: 'disenroll:0',
      phase: 'disenroll',
      op: { kind: 'disableGroup', groupId: 'g1' },
      call: 'PUT enrollmentGroups/g1 provisioningStatus=disabled',
      destructive: true,
      registrationIds: [],
    },
    {
      id: 'cleanup:0',
      phase: 'cleanup',
      op: { kind: 'deleteRegistration', registrationId: 'dev-1' },
      call: 'DELETE registrations/dev-1',
      destructive: true,
      registrationIds: ['dev-1'],
    },
  ],
  warnings: [],
  snapshot: [
    {
      registrationId: 'dev-1',
      deviceId: 'dev-1',
      assignedHub: 'hub-a.azure-devices.net',
      status: 'assigned',
    },
  ],
  counts: {
    steps: { snapshot: 0, disenroll: 1, deregister: 0, cleanup: 1, verify: 0 },
    devicesPerHub: { 'hub-a.azure-devices.net': 1 },
    devices: 1,
  },
});

const target = { dpsHost: 'dps.azure-devices-provisioning.net', hubHosts: ['hub-a.azure-devices.net'] };
const fixedNow = () => new Date('2026-11-29T01:30:00.123Z');

describe('run IDs and paths', () => {
  it('are sortable UTC timestamps with a random suffix', () => {
    const id = newRunId(new Date('2026-11-29T01:30:00.999Z'), () => 'a1b2c3');
    expect(id).toBe('20261129T013000Z-a1b2c3');
    expect(isRunId(id)).toBe(true);
    expect(isRunId(newRunId())).toBe(true);
    expect(newRunId(new Date('2026-01-01T00:00:00Z')) < newRunId(new Date('2026-01-02T00:00:00Z'))).toBe(
      true,
    );
  });

  it('live under XDG_STATE_HOME, else ~/.local/state, and refuse anything that is not a run ID', () => {
    expect(stateDir({ XDG_STATE_HOME: '/x/state' })).toBe('/x/state/iot-deprovision');
    expect(stateDir({ HOME: '/home/t' })).toBe('/home/t/.local/state/iot-deprovision');
    expect(stateDir({ XDG_STATE_HOME: 'relative', HOME: '/home/t' })).toBe(
      '/home/t/.local/state/iot-deprovision',
    );
    expect(() => journalPathFor('../../etc/passwd', env)).toThrow(/not a run ID/);
  });
});

describe('journal writer and reader', () => {
  it('creates a private file in a private folder; reads header, plan, snapshot, outcomes back', async () => {
    const j = await openJournal(
      { target, plan: plan(), runId: '20261129T013000Z-aaaaaa' },
      { env, now: fixedNow },
    );
    expect(j.path).toBe(join(root, 'iot-deprovision', 'runs', '20261129T013000Z-aaaaaa.jsonl'));
    expect((await stat(j.path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(root, 'iot-deprovision', 'runs'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(root, 'iot-deprovision'))).mode & 0o777).toBe(0o700);

    await j.appendIntent('disenroll:0', 1, 'PUT enrollmentGroups/g1');
    await j.appendOutcome({ stepId: 'disenroll:0', outcome: 'succeeded', attempts: 1 }, true);
    await j.appendIntent('cleanup:0', 1, 'DELETE registrations/dev-1');
    await j.appendVerify('verify:0', [
      { registrationId: 'dev-1', verdict: 'blocked', reason: 'group disabled' },
    ]);
    await j.close();

    const c = await readJournal(j.path);
    expect(c.header).toMatchObject({
      runId: '20261129T013000Z-aaaaaa',
      createdAt: '2026-11-29T01:30:00.123Z',
      target,
    });
    expect(c.plan?.steps).toHaveLength(2);
    expect(c.plan?.snapshot).toEqual(plan().snapshot);
    expect(c.hasSnapshot).toBe(true);
    expect(c.results.get('disenroll:0')?.outcome).toBe('succeeded');
    expect(c.unknownSteps).toEqual(['cleanup:0']);
    expect(c.attempts.get('cleanup:0')).toBe(1);
    expect(c.verdicts.get('verify:0')?.[0].verdict).toBe('blocked');
    expect(c.torn).toBe(false);
    expect(c.endState).toBeUndefined();
  });

  it('makes intents durable before they resolve: the line is on disk when the promise settles', async () => {
    const j = await openJournal({ target, plan: plan() }, { env, flushIntervalMs: 60_000 });
    await j.appendOutcome({ stepId: 'snapshot:0', outcome: 'succeeded', attempts: 0 }, false);
    // Batched: not yet written (the timer is a minute away).
    expect(await readFile(j.path, 'utf8')).not.toContain('snapshot:0');
    await j.appendIntent('cleanup:0', 1, 'DELETE registrations/dev-1');
    const text = await readFile(j.path, 'utf8');
    // The batched record went out with the durable one, in order.
    expect(text.indexOf('"snapshot:0"')).toBeGreaterThan(0);
    expect(text.indexOf('"snapshot:0"')).toBeLessThan(text.indexOf('"intent"'));
    await j.close();
  });

  it('a timer flush with nothing left to write does not stall later durable writes', async () => {
    const j = await openJournal({ target, plan: plan() }, { env, flushIntervalMs: 5 });
    await j.appendMark('paused');
    await j.appendIntent('cleanup:0', 1, 'DELETE');
    // The timer fires after the durable write already took the batched mark.
    await new Promise((r) => setTimeout(r, 30));
    await j.appendIntent('cleanup:1', 1, 'DELETE');
    await j.close();
    expect((await readJournal(j.path)).unknownSteps).toEqual(['cleanup:0', 'cleanup:1']);
  });

  it('group-commits concurrent durable appends without losing or reordering lines', async () => {
    const j = await openJournal({ target, plan: plan() }, { env });
    await Promise.all(Array.from({ length: 200 }, (_, k) => j.appendIntent(`cleanup:${k}`, 1, 'DELETE')));
    await j.close();
    const c = await readJournal(j.path);
    expect(c.unknownSteps).toEqual(Array.from({ length: 200 }, (_, k) => `cleanup:${k}`));
  });

  it('tolerates a torn last line (power loss): reported, ignored, and closed off on reopen', async () => {
    const j = await openJournal({ target, plan: plan() }, { env });
    await j.appendIntent('cleanup:0', 1, 'DELETE registrations/dev-1');
    await j.close();
    await appendFile(j.path, '{"type":"outcome","at":"2026-11-29T01:3');
    const torn = await readJournal(j.path);
    expect(torn.torn).toBe(true);
    expect(torn.unknownSteps).toEqual(['cleanup:0']);
    const lines = (await readFile(j.path, 'utf8')).split('\n');
    expect(torn.tornLines).toEqual([lines.length]);

    const again = await reopenJournal(j.path, torn.header.runId, true, { env });
    await again.appendOutcome({ stepId: 'cleanup:0', outcome: 'alreadyDone', attempts: 0 }, true);
    await again.appendEnd('completed');
    await again.close();
    const after = await readJournal(j.path);
    expect(after.results.get('cleanup:0')?.outcome).toBe('alreadyDone');
    expect(after.unknownSteps).toEqual([]);
    expect(after.endState).toBe('completed');
    expect(after.torn).toBe(true);
  });

  it('says clearly when a file is missing or is not a journal', async () => {
    await expect(readJournal(join(root, 'nope.jsonl'))).rejects.toMatchObject({ code: 'notFound' });
    const bogus = join(root, 'bogus.jsonl');
    await writeFile(bogus, 'hello\n');
    await expect(readJournal(bogus)).rejects.toThrow(/no readable run header/);
  });

  it('a resumed run is no longer ended until it writes a new end', async () => {
    const j = await openJournal({ target, plan: plan() }, { env });
    await j.appendEnd('aborted');
    await j.appendMark('resumedRun');
    await j.close();
    expect((await readJournal(j.path)).endState).toBeUndefined();
  });
});

describe('redaction guard', () => {
  it('refuses records with access keys, signatures or key fields, naming the field, not the value', () => {
    const secret = 'c2VjcmV0LWtleS12YWx1ZQ==';
    const cases: unknown[] = [
      { message: `HostName=h;SharedAccessKeyName=x;SharedAccessKey=${secret}` },
      { nested: { list: [`SharedAccessSignature sr=h&sig=${secret}`] } },
      { attestation: { primaryKey: secret } },
      { secondaryKey: secret },
      { key: secret },
      { ConnectionString: secret },
    ];
    for (const c of cases) {
      let err: unknown;
      try {
        assertNoSecrets(c);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      expect(err).toMatchObject({ code: 'secret', exitCode: 2 });
      expect((err as Error).message).not.toContain(secret);
    }
    expect(() => assertNoSecrets({ primaryKey: undefined, key: '', hub: 'h', n: 1 })).not.toThrow();
  });

  it('keeps a secret-bearing run off the disk entirely', async () => {
    const p = plan();
    p.steps[1].call = 'DELETE registrations/dev-1 HostName=h;SharedAccessKeyName=o;SharedAccessKey=abcd';
    await expect(
      openJournal({ target, plan: p, runId: '20261129T013000Z-bbbbbb' }, { env }),
    ).rejects.toMatchObject({
      code: 'secret',
    });
    expect(await findRun('20261129T013000Z-bbbbbb', env)).toBeUndefined();
    const j = await openJournal({ target, plan: plan() }, { env });
    await expect(
      j.appendOutcome(
        { stepId: 'x', outcome: 'failed', message: 'SharedAccessSignature sr=a&sig=b', attempts: 1 },
        true,
      ),
    ).rejects.toMatchObject({ code: 'secret' });
    await j.close();
    expect(await readFile(j.path, 'utf8')).not.toContain('SharedAccessSignature');
  });

  it('scrubs credentials out of free text', () => {
    const text = scrubSecrets(
      'failed: Authorization SharedAccessSignature sr=h.net&sig=abc%3D&se=1&skn=owner; ' +
        'cs HostName=h;SharedAccessKey=zzz;x Bearer eyJ.a.b',
    );
    expect(text).not.toMatch(/abc%3D|zzz|eyJ/);
    expect(text).toContain('failed: Authorization');
    expect(() => assertNoSecrets({ m: text })).not.toThrow();
  });
});

describe('recorded runs', () => {
  it('lists runs newest first with state and counts, finds one, picks the latest unfinished', async () => {
    const a = await openJournal({ target, plan: plan(), runId: '20261128T000000Z-000001' }, { env });
    await a.appendOutcome({ stepId: 'disenroll:0', outcome: 'succeeded', attempts: 1 }, true);
    await a.appendOutcome({ stepId: 'cleanup:0', outcome: 'failed', message: 'x', attempts: 6 }, true);
    await a.appendEnd('completedWithFailures');
    await a.close();
    const b = await openJournal({ target, plan: plan(), runId: '20261129T000000Z-000002' }, { env });
    await b.appendIntent('disenroll:0', 1, 'PUT');
    await b.close();
    await writeFile(join(root, 'iot-deprovision', 'runs', 'notes.txt'), 'ignored');

    const runs = await listRuns(env);
    expect(runs.map((r) => r.runId)).toEqual(['20261129T000000Z-000002', '20261128T000000Z-000001']);
    expect(runs[0]).toMatchObject({ state: 'interrupted', counts: { steps: 2, unknown: 1, notStarted: 1 } });
    expect(runs[1]).toMatchObject({
      state: 'completedWithFailures',
      selection: { kind: 'group', groupId: 'g1' },
      counts: { succeeded: 1, failed: 1, notStarted: 0 },
    });
    expect(await findRun('20261128T000000Z-000001', env)).toBe(a.path);
    expect(await findRun('20261128T000000Z-ffffff', env)).toBeUndefined();
    expect((await latestUnfinishedRun(env)).run?.runId).toBe('20261129T000000Z-000002');
  });

  it('lists nothing when no run was ever recorded', async () => {
    expect(await listRuns(env)).toEqual([]);
  });
});
