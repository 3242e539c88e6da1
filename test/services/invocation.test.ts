import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectInvocation } from '../../src/services/invocation.js';
import { LAUNCHER } from '../support/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'invocation-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the invocation printed commands use', () => {
  it('is iot-deprovision when the first one on PATH links to this install (npm install -g / npm link)', async () => {
    const bin = join(dir, 'global-bin');
    await rm(bin, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(bin));
    await symlink(LAUNCHER, join(bin, 'iot-deprovision'));
    expect(detectInvocation({ PATH: `/nonexistent:${bin}` }, LAUNCHER)).toBe('iot-deprovision');
  });

  it('is npx iot-deprovision when none is on PATH, or the first one is another install', async () => {
    expect(detectInvocation({ PATH: '/nonexistent' }, LAUNCHER)).toBe('npx iot-deprovision');
    const other = join(dir, 'other-bin');
    await import('node:fs/promises').then((fs) => fs.mkdir(other));
    await writeFile(join(other, 'iot-deprovision'), '#!/bin/sh\n', { mode: 0o755 });
    expect(detectInvocation({ PATH: `${other}:${join(dir, 'global-bin')}` }, LAUNCHER)).toBe(
      'npx iot-deprovision',
    );
  });
});
