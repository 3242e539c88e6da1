/**
 * Attempts with the credentials the sandbox keeps for its demo devices (their keys, or their
 * certificate chains and private keys), through the official device SDKs, to the embedded emulator:
 * first the device sends telemetry to the hub it was assigned to (what it can still do with what it
 * holds), then it registers with DPS (which may create a missing hub identity, so it comes second).
 */
import type { HubSendAttempt, RegistrationAttempt } from '../backend.js';
import { parseEndpoint } from '../azure/endpoint.js';
import type { EmulatorHandle } from '../emulator/index.js';

/** The emulator decides while answering the first request, so there is no point in waiting 2 s to poll. */
const EMULATOR_POLLING_MS = 100;

/** Where the device was assigned: its registration record, else a hub that has its identity. */
function knownHub(
  emulator: EmulatorHandle,
  registrationId: string,
): { hubHost: string; deviceId: string } | undefined {
  const record = emulator.store.dps.registrations.get(registrationId);
  if (record?.assignedHub) return { hubHost: record.assignedHub, deviceId: record.deviceId };
  for (const hub of emulator.store.hubs.values()) {
    if (hub.devices.has(registrationId)) return { hubHost: hub.host, deviceId: registrationId };
  }
  return undefined;
}

export function attemptWithHeldCredentials(
  emulator: EmulatorHandle,
): (registrationId: string) => Promise<RegistrationAttempt> {
  return async (registrationId) => {
    const held = emulator.store.demoSecrets.devices[registrationId];
    const certPem = held?.chainPem ?? held?.certPem;
    if (!held?.symmetricKey && !(certPem && held?.keyPem)) {
      const tpm = emulator.store.dps.enrollments.get(registrationId)?.attestation.type === 'tpm';
      return {
        outcome: 'unavailable',
        reason: tpm
          ? 'TPM attestation is not supported by the emulator: this device cannot try to register here'
          : 'the sandbox holds no key or certificate for this device',
      };
    }
    // Loaded on first use: the device SDKs are not needed to start the sandbox.
    const [{ registerDevice }, { sendTelemetry }, { url, ca }] = await Promise.all([
      import('./register.js'),
      import('./send.js'),
      emulator.deviceEndpoint(),
    ]);
    const endpoint = parseEndpoint(url, ca);
    const credential = held.symmetricKey
      ? { symmetricKey: held.symmetricKey }
      : { certPem, keyPem: held.keyPem };
    const hub = knownHub(emulator, registrationId);
    const hubSend: HubSendAttempt = hub
      ? await sendTelemetry({ endpoint, ...hub, ...credential })
      : { outcome: 'unavailable', reason: 'no hub is known for this device: it was never assigned' };
    const registration = await registerDevice({
      endpoint,
      provisioningHost: emulator.device.host,
      idScope: emulator.device.idScope,
      registrationId,
      ...credential,
      pollingIntervalMs: EMULATOR_POLLING_MS,
    });
    return { ...registration, hubSend };
  };
}
