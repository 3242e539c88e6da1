/**
 * The demo fleet's IoT Edge gateway through the compiled program: the plan names its three children and
 * how to include them; --include-children deregisters them and a PLC is then refused by its hub
 * (verify --attempt's hub answer); --include-children with no hub action is bad usage.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/commands/headless.js';
import { runCli, tempDir } from '../support/cli.js';

describe('the demo Edge gateway (compiled program, sandbox)', () => {
  let home: Awaited<ReturnType<typeof tempDir>>;
  let statePath: string;
  beforeAll(async () => {
    home = await tempDir('edge');
    statePath = join(home.path, 'sandbox.json');
  });
  afterAll(() => home.remove());
  const cli = (args: string[]) =>
    runCli([...args, '--sandbox', '--state', statePath], { stateHome: home.path });
  const gateway = ['--enrollment', 'edge-gateway-hamburg-0001', '--disenroll', 'disable'];

  it('plan warns about the children; a delete counts the two modules', async () => {
    const plan = await cli(['plan', ...gateway, '--deregister', 'delete']);
    expect(plan.code).toBe(EXIT.done);
    expect(plan.stdout).toContain('module identities deleted with their device: 2');
    expect(plan.stdout).toMatch(
      /edge-gateway-hamburg-0001 is an IoT Edge gateway with 3 child devices \(plc-hamburg-0001, plc-hamburg-0002, plc-hamburg-0003\)/,
    );
    expect(plan.stdout).toContain('plan again with --include-children');
  });

  it('--include-children with --deregister none is bad usage (exit 2)', async () => {
    const bad = await cli(['plan', ...gateway, '--deregister', 'none', '--include-children']);
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toContain('--include-children');
  });

  it('run --include-children: the PLCs are disabled, and a PLC is refused by its hub', async () => {
    const run = await cli(['run', ...gateway, '--deregister', 'disable', '--include-children', '--yes']);
    expect(run.code).toBe(EXIT.done);
    const attempt = await cli([
      'verify',
      '--group',
      'plc-hamburg',
      '--device',
      'plc-hamburg-0001',
      '--attempt',
    ]);
    // Its group is enabled, so DPS lets it in; its hub identity is disabled, so the hub refuses it.
    expect(attempt.stdout).toMatch(
      /plc-hamburg-0001: predicted allowed; assigned to .*; hub hub-\w+\.azure-devices\.net: refused \(401\)/,
    );
  });
});
