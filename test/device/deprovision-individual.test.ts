/**
 * Individual enrollments, proven with real devices: a device registers, the tool's plan is executed
 * (the real backend on the emulator), then the device tries again. Every refusal must be what
 * `verify` predicted (blocked); every return must have been predicted and warned about.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedChain, generateChain } from '../support/certs.js';
import {
  enrollGroup,
  enrollIndividual,
  expectAssigned,
  key,
  startWorld,
  warningCodesFor,
  type World,
} from './harness.js';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.close());

async function verdictOf(registrationId: string) {
  const [verdict] = await world.backend().verify({ kind: 'enrollment', registrationId });
  return verdict;
}

describe('symmetric-key individual enrollment', () => {
  it.each([
    ['disable', 'pump-disabled', { outcome: 'refused', registrationStatus: 'disabled' }],
    ['delete', 'pump-deleted', { outcome: 'refused', status: 401 }],
  ] as const)('%s: the device is refused, as verify predicts', async (disenroll, id, refusal) => {
    const keys = { primaryKey: key(1), secondaryKey: key(2) };
    enrollIndividual(world, id, { symmetricKey: keys });
    const device = { registrationId: id, symmetricKey: keys.primaryKey };
    const { assignedHub } = expectAssigned(await world.register(device));

    await world.deprovision({ kind: 'enrollment', registrationId: id }, { disenroll, deregister: 'disable' });
    expect(world.emulator.store.hubByHost(assignedHub)?.devices.get(id)?.status).toBe('disabled');

    expect(await world.register(device)).toMatchObject(refusal);
    expect(await verdictOf(id)).toMatchObject({ verdict: 'blocked' });
  });
});

describe('X.509 individual enrollment', () => {
  it('disable: the device is refused even though an enabled group holds its chain', async () => {
    const ca = await cachedChain('line', {
      leafCn: 'unused',
      rootCn: 'Line Root',
      intermediateCn: 'Line CA',
    });
    enrollGroup(world, 'line', { signingPem: ca.intermediate.pem });
    const chain = await generateChain({ leafCn: 'robot-1', ca });
    const device = { registrationId: 'robot-1', chain };
    world.hold(device);
    enrollIndividual(world, 'robot-1', { certificatePem: chain.leaf.pem });
    expectAssigned(await world.register(device));

    const { warnings } = await world.deprovision(
      { kind: 'enrollment', registrationId: 'robot-1' },
      { disenroll: 'disable' },
    );
    expect(warningCodesFor(warnings, 'robot-1')).not.toContain('reenroll-through-group');

    expect(await world.register(device)).toMatchObject({
      outcome: 'refused',
      registrationStatus: 'disabled',
    });
    expect(await verdictOf('robot-1')).toMatchObject({ verdict: 'blocked' });
  });

  it('delete without a group above: the device is refused', async () => {
    const chain = await generateChain({
      leafCn: 'robot-2',
      rootCn: 'Lonely Root',
      intermediateCn: 'Lonely CA',
    });
    const device = { registrationId: 'robot-2', chain };
    world.hold(device);
    enrollIndividual(world, 'robot-2', { certificatePem: chain.leaf.pem });
    expectAssigned(await world.register(device));

    await world.deprovision(
      { kind: 'enrollment', registrationId: 'robot-2' },
      { disenroll: 'delete', deregister: 'delete' },
    );
    expect(await world.register(device)).toMatchObject({ outcome: 'refused', status: 401 });
    expect(await verdictOf('robot-2')).toMatchObject({ verdict: 'blocked' });
  });

  it('delete while an enabled group holds its chain: the device comes back, as the plan warned', async () => {
    const ca = await cachedChain('line', {
      leafCn: 'unused',
      rootCn: 'Line Root',
      intermediateCn: 'Line CA',
    });
    enrollGroup(world, 'line', { signingPem: ca.intermediate.pem });
    const chain = await generateChain({ leafCn: 'robot-3', ca });
    const device = { registrationId: 'robot-3', chain };
    world.hold(device);
    enrollIndividual(world, 'robot-3', { certificatePem: chain.leaf.pem });
    expectAssigned(await world.register(device));

    const { warnings, summary } = await world.deprovision(
      { kind: 'enrollment', registrationId: 'robot-3' },
      { disenroll: 'delete', deregister: 'delete' },
    );
    // The run's own verify step said so too.
    expect(summary.verify.find((v) => v.registrationId === 'robot-3')?.verdict).not.toBe('blocked');
    const warning = warnings.find((w) => w.code === 'reenroll-through-group');
    expect(warning?.registrationIds).toEqual(['robot-3']);
    expect(warning?.path).toBe('enrollmentGroups/line');

    const back = expectAssigned(await world.register(device));
    expect(world.emulator.store.dps.registrations.get('robot-3')?.enrollment).toEqual({
      kind: 'group',
      id: 'line',
    });
    // DPS created the identity the plan deleted.
    expect(world.emulator.store.hubByHost(back.assignedHub)?.devices.get('robot-3')?.status).toBe('enabled');
    expect((await verdictOf('robot-3')).verdict).not.toBe('blocked');
  });
});
