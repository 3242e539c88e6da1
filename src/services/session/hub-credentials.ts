/**
 * The check before a run's first change that every hub given credentials answers: a wrong key on a hub is
 * refused up front, naming the hub, with nothing changed.
 */
import { isServiceError, ServiceError } from '../../core/errors.js';
import type { HubReadDirectory } from './reads.js';

/** A device ID no hub holds (the credential check reads it: "not found" means the key works). */
const CREDENTIAL_CHECK_DEVICE = 'iot-deprovision-credential-check';

/**
 * Every hub given credentials answers one cheap read (an identity that does not exist) before the first
 * change: a wrong key on a hub the plan does not even touch is refused, naming the hub, not found later.
 */
export function createHubCredentialsCheck(hubs: HubReadDirectory): () => Promise<void> {
  let hubsChecked: Promise<void> | undefined;
  const checkHubCredentials = (): Promise<void> => {
    hubsChecked ??= Promise.all(
      hubs.hosts().map(async (host) => {
        try {
          await hubs.get(host)?.getDevice(CREDENTIAL_CHECK_DEVICE);
        } catch (e) {
          if (!isServiceError(e)) throw e;
          const refused = e.kind === 'unauthorized' || e.kind === 'forbidden';
          throw new ServiceError(
            e.kind,
            refused
              ? `hub ${host}: its credentials were refused (${e.details.status ?? e.kind}) when checked before the run: ` +
                  `${e.message}. Nothing was changed.`
              : `hub ${host} could not be checked before the run: ${e.message}. Nothing was changed.`,
            { ...e.details, target: host },
          );
        }
      }),
    ).then(() => undefined);
    // A failed check is not remembered: the person may fix the hub and try again in the same session.
    hubsChecked.catch(() => {
      hubsChecked = undefined;
    });
    return hubsChecked;
  };
  return checkHubCredentials;
}
