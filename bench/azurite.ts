/**
 * Azurite for the benchmarks and the tests (test/support/azurite.ts re-exports this): the one start,
 * src/services/storage/azurite.ts (the sandbox uses it too), plus, for the Entra ID proofs, `oauth`:
 * Azurite over HTTPS (its own CA, `ca`) with `--oauth basic`, and `signIn`, the emulated `az login` for it.
 * Azurite reads a token's claims without checking its signature (issuer https://sts.windows.net/,
 * audience https://storage.azure.com, nbf/iat/exp; oid and tid make the user delegation key).
 */
import { randomUUID } from 'node:crypto';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { createServerCertificate } from '../src/services/emulator/certs.js';
import {
  type AzuriteHandle as StorageHandle,
  startAzurite as start,
} from '../src/services/storage/azurite.js';

export interface AzuriteHandle extends StorageHandle {
  /**
   * With `oauth`: a credential answering as `az login` would, a token Azurite accepts for storage
   * (`expired`: one whose lifetime is over, which storage refuses).
   */
  signIn(options?: { expired?: boolean }): TokenCredential;
}

/** An unsigned JWT with the claims Azurite checks (it does not check the signature). */
function storageToken(oid: string, expired: boolean): AccessToken {
  const now = Math.floor(Date.now() / 1000);
  const exp = expired ? now - 60 : now + 3600;
  const tid = '72f988bf-86f1-41af-91ab-2d7cd011db47';
  const claims = {
    aud: 'https://storage.azure.com',
    iss: `https://sts.windows.net/${tid}/`,
    iat: exp - 3660,
    nbf: exp - 3660,
    exp,
    oid,
    tid,
  };
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return {
    token: `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.${Buffer.from('unsigned').toString('base64url')}`,
    expiresOnTimestamp: exp * 1000,
  };
}

export async function startAzurite(options: { oauth?: boolean } = {}): Promise<AzuriteHandle> {
  const tls = options.oauth ? await createServerCertificate() : undefined;
  const handle = await start(tls ? { tls } : {});
  return {
    ...handle,
    signIn(opts = {}) {
      if (!tls) throw new Error('Azurite was started without oauth: it takes no tokens');
      const oid = randomUUID(); // the signed-in identity's object ID
      return { getToken: async () => storageToken(oid, opts.expired === true) };
    },
  };
}
