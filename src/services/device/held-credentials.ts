/**
 * Registration attempts with the credentials the sandbox keeps for its demo devices (their keys, or
 * their certificate chains and private keys), sent through the official device SDK to the embedded
 * emulator's device endpoint.
 */
import type { RegistrationAttempt } from '../backend.js';
import { parseEndpoint } from '../azure/endpoint.js';
import type { EmulatorHandle } from '../emulator/index.js';

/** The emulator decides while answering the first request, so there is no point in waiting 2 s to poll. */
const EMULATOR_POLLING_MS = 100;

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
    // Loaded on first use: the device SDK is not needed to start the sandbox.
    const [{ registerDevice }, { url, ca }] = await Promise.all([
      import('./register.js'),
      emulator.deviceEndpoint(),
    ]);
    return registerDevice({
      endpoint: parseEndpoint(url, ca),
      provisioningHost: emulator.device.host,
      idScope: emulator.device.idScope,
      registrationId,
      ...(held.symmetricKey ? { symmetricKey: held.symmetricKey } : { certPem, keyPem: held.keyPem }),
      pollingIntervalMs: EMULATOR_POLLING_MS,
    });
  };
}
