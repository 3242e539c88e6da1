/**
 * One HTTPS emulator per test file, the tool's real backend pointed at it (the `--endpoint` path), and
 * devices that register through the official device SDK. Enrollments are written in the service API's
 * own shape (parsed by the emulator as a PUT would be), so the records are those DPS would hold.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateInfo, parseCertificateChain } from '../../src/core/certs.js';
import type { CertificateInfo, ParsedCertificate } from '../../src/core/model.js';
import type { Plan, PlanWarning } from '../../src/core/plan-types.js';
import { type Actions, SAFE_ACTIONS, type Selection } from '../../src/core/selection.js';
import { parseEndpoint } from '../../src/services/azure/endpoint.js';
import { buildPorts, emulatorTarget } from '../../src/services/azure/target.js';
import type { RunSummary } from '../../src/services/backend.js';
import { type RegistrationOutcome, registerDevice } from '../../src/services/device/register.js';
import { type HubDevice, openHubDevice } from '../../src/services/device/send.js';
import { parseEnrollment, parseGroup } from '../../src/services/emulator/dps-model.js';
import { type EmulatorHandle, startEmulator } from '../../src/services/emulator/index.js';
import { deriveDeviceKey } from '../../src/services/emulator/seed-shared.js';
import {
  type BackendOptions,
  createBackend,
  type SessionBackend,
} from '../../src/services/session/create-backend.js';
import type { GeneratedChain } from '../support/certs.js';

/** A device as it registers: its registration ID and what it proves itself with. */
export type Device =
  | { registrationId: string; symmetricKey: string }
  | { registrationId: string; chain: GeneratedChain };

export interface World {
  emulator: EmulatorHandle;
  /** The tool's backend; `hold` tells it the chains of devices (as the sandbox holds its demo devices'). */
  backend(options?: Partial<BackendOptions>): SessionBackend;
  hold(device: Device & { chain: GeneratedChain }): void;
  register(device: Device): Promise<RegistrationOutcome>;
  /** The device's client on its hub (the official device client, HTTP), with the credentials it registered with. */
  hubClient(device: Device, assigned: { assignedHub: string; deviceId: string }): HubDevice;
  /** plan -> run -> done; fails the test when the planner refuses or a step other than verify fails. */
  deprovision(
    selection: Selection,
    actions: Partial<Actions>,
    options?: Partial<BackendOptions>,
  ): Promise<{ plan: Plan; warnings: PlanWarning[]; summary: RunSummary }>;
  close(): Promise<void>;
}

export const key = (seed: number): string => Buffer.alloc(32, seed).toString('base64');

export async function startWorld(): Promise<World> {
  const emulator = await startEmulator({ https: true, timeScale: 60 });
  const stateHome = await mkdtemp(join(tmpdir(), 'iotd-device-'));
  const endpoint = parseEndpoint(emulator.url, emulator.ca);
  const target = emulatorTarget(emulator, 'azure');
  const ports = buildPorts(target);
  const chains: Record<string, ParsedCertificate[]> = {};
  const caCertificates = (): Record<string, CertificateInfo> => {
    const out: Record<string, CertificateInfo> = {};
    for (const [name, pem] of emulator.store.dps.caCertificates)
      out[name] = certificateInfo(parseCertificateChain(pem)[0]);
    return out;
  };
  const backend = (options: Partial<BackendOptions> = {}) =>
    createBackend({
      target: target.describe(),
      dps: ports.dps,
      hubs: ports.hubs,
      env: { XDG_STATE_HOME: stateHome },
      limits: { timeScale: 60 },
      certificates: chains,
      caCertificates: caCertificates(),
      ...options,
    });
  return {
    emulator,
    backend,
    hold: (device) => {
      chains[device.registrationId] = parseCertificateChain(device.chain.chainPem);
    },
    register: (device) =>
      registerDevice({
        endpoint,
        idScope: emulator.device.idScope,
        registrationId: device.registrationId,
        ...('chain' in device
          ? { certPem: device.chain.leafAndIntermediatePem, keyPem: device.chain.leaf.keyPem }
          : { symmetricKey: device.symmetricKey }),
        pollingIntervalMs: 20,
      }),
    hubClient: (device, assigned) =>
      openHubDevice({
        endpoint,
        hubHost: assigned.assignedHub,
        deviceId: assigned.deviceId,
        ...('chain' in device
          ? { certPem: device.chain.leafAndIntermediatePem, keyPem: device.chain.leaf.keyPem }
          : { symmetricKey: device.symmetricKey }),
      }),
    async deprovision(selection, actions, options) {
      const b = backend(options);
      const planned = await b.plan(selection, { ...SAFE_ACTIONS, ...actions });
      if (!planned.ok) throw new Error(`the planner refused: ${planned.refusal.message}`);
      const handle = await b.run(planned.plan);
      const summary = await handle.done;
      // A verify step fails when a device could come back: that is for the test to judge, not a broken run.
      const failed = summary.results.filter((r) => r.outcome === 'failed' && !r.stepId.startsWith('verify:'));
      if (summary.state === 'aborted' || failed.length > 0) {
        throw new Error(
          `the run ended ${summary.state}: ${failed.map((r) => `${r.stepId}: ${r.message}`).join('; ')}`,
        );
      }
      return { plan: planned.plan, warnings: planned.plan.warnings, summary };
    },
    close: async () => {
      await emulator.stop();
      await rm(stateHome, { recursive: true, force: true });
    },
  };
}

const hubs = (world: World) => [...world.emulator.store.hubs.keys()];

/** An individual enrollment, as `PUT /enrollments/{id}` with this body would write it. */
export function enrollIndividual(
  world: World,
  registrationId: string,
  attestation: { symmetricKey: { primaryKey: string; secondaryKey: string } } | { certificatePem: string },
): void {
  const { store } = world.emulator;
  const body = {
    registrationId,
    provisioningStatus: 'enabled',
    iotHubs: hubs(world),
    attestation:
      'symmetricKey' in attestation
        ? { type: 'symmetricKey', symmetricKey: attestation.symmetricKey }
        : {
            type: 'x509',
            x509: { clientCertificates: { primary: { certificate: attestation.certificatePem } } },
          },
  };
  store.putEnrollment(parseEnrollment(body, registrationId, undefined, store));
}

/** A CA certificate uploaded to and verified on every hub: CA-authenticated devices' chains lead to it. */
export function trustOnHubs(world: World, name: string, pem: string): void {
  for (const hub of world.emulator.store.hubs.values()) hub.caCertificates.set(name, pem);
  world.emulator.store.touch();
}

/** An enrollment group: symmetric key, a signing certificate, or a reference to a verified CA. */
export function enrollGroup(
  world: World,
  groupId: string,
  attestation:
    | { symmetricKey: { primaryKey: string; secondaryKey: string } }
    | { signingPem: string }
    | { caName: string },
): void {
  const { store } = world.emulator;
  const x509 =
    'signingPem' in attestation
      ? { signingCertificates: { primary: { certificate: attestation.signingPem } } }
      : 'caName' in attestation
        ? { caReferences: { primary: attestation.caName } }
        : undefined;
  const body = {
    enrollmentGroupId: groupId,
    provisioningStatus: 'enabled',
    iotHubs: hubs(world),
    attestation: x509
      ? { type: 'x509', x509 }
      : { type: 'symmetricKey', symmetricKey: (attestation as { symmetricKey: unknown }).symmetricKey },
  };
  store.putGroup(parseGroup(body, groupId, undefined, store));
}

/** A device of a symmetric-key group: its key is derived from the group's primary key. */
export function groupDevice(
  groupKey: string,
  registrationId: string,
): { registrationId: string; symmetricKey: string } {
  return { registrationId, symmetricKey: deriveDeviceKey(groupKey, registrationId) };
}

export function expectAssigned(outcome: RegistrationOutcome): { assignedHub: string; deviceId: string } {
  if (outcome.outcome !== 'assigned')
    throw new Error(`expected the device to be assigned, got ${JSON.stringify(outcome)}`);
  return outcome;
}

/** The warnings that name a device, by code. */
export function warningCodesFor(warnings: PlanWarning[], registrationId: string): string[] {
  return warnings.filter((w) => w.registrationIds.includes(registrationId)).map((w) => w.code);
}
