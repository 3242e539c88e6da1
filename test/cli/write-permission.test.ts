/**
 * Issue 14 §5: a credential that may read but not write is refused before any change. Against the
 * emulator's read-only access policies (a hub's `registryRead`, DPS's `enrollmentread`):
 * - a hub the plan changes is asked first, through a write that changes nothing (a bulk
 *   DeleteIfMatchETag of an absent device): refused, the run never starts (exit 2, the permission named,
 *   no journal, nothing changed);
 * - DPS has no such probe (see src/services/preflight.ts): its first changing call is refused, and that
 *   stops the run before any other change (exit 2, the permission named, nothing changed).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CliFixture, startCliFixture } from './fixture.js';

let f: CliFixture;
const GROUP = 'smart-meters-eu';

beforeAll(async () => {
  f = await startCliFixture({ seed: 'demo', timeScale: 120 });
});
afterAll(async () => {
  await f?.close();
});
beforeEach(() => {
  f.emulator.resetStats();
});

/** Target flags with one service's connection string replaced by its read-only one. */
function target(readOnly: 'dps' | string): string[] {
  const em = f.emulator;
  return [
    '--endpoint',
    em.url,
    '--dps',
    readOnly === 'dps' ? em.dps.readOnlyConnectionString : em.dps.connectionString,
    ...em.hubs.flatMap((h) => [
      '--hub',
      h.name === readOnly ? h.readOnlyConnectionString : h.connectionString,
    ]),
  ];
}

const RUN = ['run', '--group', GROUP, '--disenroll', 'disable', '--deregister', 'disable', '--yes'];

describe('write permission, before any change', () => {
  it('a hub whose policy cannot write: refused before the run starts, the permission named, nothing changed', async () => {
    const result = await f.cli([...RUN, ...target('hub-us')], { target: false });
    expect(result.code).toBe(2);
    const said = result.stderr.replace(/\s+/g, ' ');
    expect(said).toContain('hub-us.azure-devices.net');
    expect(said).toMatch(/registryWrite/);
    expect(said).toContain('nothing was changed');
    expect(said).not.toMatch(/\n\s+at /);
    expect(f.emulator.stats().destructive).toEqual({});
    expect(f.emulator.store.dps.groups.get(GROUP)?.provisioningStatus).toBe('enabled');
    // No run was journaled: nothing to resume or restore.
    expect((await f.cli(['runs'], { target: false })).stdout).toContain('No runs recorded yet.');
  });

  it('DPS with a policy that cannot write: its first change is refused, which stops the run before any other change (exit 2)', async () => {
    const result = await f.cli([...RUN, ...target('dps')], { target: false });
    const said = result.stderr.replace(/\s+/g, ' ');
    expect(result.code, said).toBe(2);
    expect(said).toMatch(/enrollmentWrite/);
    expect(said).not.toMatch(/\n\s+at /);
    expect(f.emulator.stats().destructive).toEqual({});
    expect(f.emulator.store.dps.groups.get(GROUP)?.provisioningStatus).toBe('enabled');
    const changes = Object.entries(f.emulator.stats().operations).filter(
      ([op]) => /^(hub|dps):(put|delete|bulk)/i.test(op) && op !== 'hub:bulkDeleteIfMatchETag',
    );
    // The one refused DPS write, and no hub write at all.
    expect(changes.every(([op]) => op.startsWith('dps:'))).toBe(true);
    expect(result.stdout + result.stderr).toMatch(/resume|restore|nothing was changed/i);
  });

  it('on hubs that may write, the check is answered per device and changes nothing; the run goes', async () => {
    const result = await f.cli(RUN);
    expect(result.code).toBe(0);
    const ops = f.emulator.stats().operations;
    // One check per hub the plan changes, each a bulk DeleteIfMatchETag answered 200 (its device absent).
    expect(ops['hub:bulkDeleteIfMatchETag']).toEqual({ '200': 3 });
    const touched = Object.keys(f.emulator.stats().destructive);
    expect(touched.some((t) => t.includes('iotd-write-check'))).toBe(false);
    for (const hub of f.emulator.store.hubs.values())
      expect([...hub.devices.keys()].some((id) => id.startsWith('iotd-write-check'))).toBe(false);
    expect(f.emulator.store.dps.groups.get(GROUP)?.provisioningStatus).toBe('disabled');
  });
});
