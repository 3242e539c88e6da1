import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/core/plan-types.js';
import { openJournal, reopenJournal } from '../../src/services/journal/writer.js';

// Two processes working on one run could repeat each other's destructive calls: the second is refused.
let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'journal-lock-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const plan: Plan = {
  selection: { kind: 'enrollment', registrationId: 'pump-1' },
  actions: { disenroll: 'disable', deregister: 'none', deleteRegistrations: false, deleteGroup: false },
  steps: [],
  warnings: [],
  snapshot: [],
  counts: {
    steps: { snapshot: 0, disenroll: 0, deregister: 0, cleanup: 0, verify: 0 },
    devicesPerHub: {},
    devices: 0,
  },
};

describe('run journal lock', () => {
  it('refuses a run another live process holds, takes over one a dead process left, releases on close', async () => {
    const env = { XDG_STATE_HOME: root };
    const journal = await openJournal({ target: { dpsHost: 'dps', hubHosts: [] }, plan }, { env });
    const lock = `${journal.path}.lock`;
    expect(existsSync(lock)).toBe(true);
    await journal.close();
    expect(existsSync(lock)).toBe(false);

    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      writeFileSync(lock, String(other.pid));
      await expect(reopenJournal(journal.path, journal.runId, true, { env })).rejects.toMatchObject({
        name: 'UserError',
        code: 'locked',
        message: expect.stringContaining(`pid ${other.pid}`),
      });
    } finally {
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
    }
    // The holder is gone (as after a SIGKILL): resume takes the run over.
    const resumed = await reopenJournal(journal.path, journal.runId, true, { env });
    expect(existsSync(lock)).toBe(true);
    await resumed.close();
    expect(existsSync(lock)).toBe(false);
  });
});
