/**
 * Authorization as the services check it: a SAS token signed with a shared access policy's key
 * (HMAC-SHA256 over url-encoded sr + "\n" + se), whose resource covers the host that was called and
 * whose expiry is in the future; or an Entra ID bearer token (here: one from a configured list).
 * Failure reasons name what was wrong, never the token or the key.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ServiceError } from './errors.js';
import type { PolicyRight, SharedAccessPolicy } from './types.js';

export interface AuthTarget {
  host: string;
  policies: SharedAccessPolicy[];
}

function parseSas(value: string): Record<string, string> | undefined {
  const m = /^SharedAccessSignature\s+(.+)$/i.exec(value.trim());
  if (!m) return undefined;
  const fields: Record<string, string> = {};
  for (const part of m[1].split('&')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields[part.slice(0, eq).toLowerCase()] = part.slice(eq + 1);
  }
  return fields;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function sign(key: string, sr: string, se: string): Buffer {
  return createHmac('sha256', Buffer.from(key, 'base64')).update(`${sr}\n${se}`).digest();
}

/**
 * Throws a 401 ServiceError unless the Authorization header grants access to the target. Returns the
 * policy whose key signed the token (undefined for a bearer token, which the emulator lets do anything).
 */
export function authorize(
  header: string | undefined,
  target: AuthTarget,
  bearerTokens: ReadonlySet<string>,
  nowSeconds: number,
): SharedAccessPolicy | undefined {
  if (!header)
    throw new ServiceError('unauthorized', 'Unauthorized: the request has no Authorization header');
  if (/^Bearer\s+/i.test(header)) {
    const token = header.replace(/^Bearer\s+/i, '').trim();
    if (bearerTokens.has(token)) return undefined;
    throw new ServiceError('unauthorized', 'Unauthorized: the bearer token is not valid for this resource');
  }
  const sas = parseSas(header);
  if (!sas?.sr || !sas.sig || !sas.se) {
    throw new ServiceError(
      'unauthorized',
      'Unauthorized: malformed SharedAccessSignature (needs sr, sig, se)',
    );
  }
  const resource = safeDecode(sas.sr)
    .toLowerCase()
    .replace(/^https?:\/\//, '');
  const host = target.host.toLowerCase();
  if (resource !== host && !resource.startsWith(`${host}/`)) {
    throw new ServiceError('unauthorized', `Unauthorized: the token's resource (sr) is not ${target.host}`);
  }
  const expiry = Number(sas.se);
  if (!Number.isFinite(expiry) || expiry <= nowSeconds) {
    throw new ServiceError('unauthorized', 'Unauthorized: the SAS token has expired');
  }
  const policyName = sas.skn ? safeDecode(sas.skn) : undefined;
  const policy = target.policies.find((p) => p.name.toLowerCase() === policyName?.toLowerCase());
  if (!policy) throw new ServiceError('unauthorized', 'Unauthorized: unknown shared access policy (skn)');
  const given = Buffer.from(safeDecode(sas.sig), 'base64');
  // The SDKs sign sr as written in the token; the service canonical form is url-encoded.
  const forms = new Set([sas.sr, encodeURIComponent(safeDecode(sas.sr)), encodeURIComponent(resource)]);
  for (const key of [policy.primaryKey, policy.secondaryKey]) {
    for (const sr of forms) {
      const expected = sign(key, sr, sas.se);
      if (expected.length === given.length && timingSafeEqual(expected, given)) return policy;
    }
  }
  throw new ServiceError('unauthorized', 'Unauthorized: the SAS signature does not match the policy key');
}

/** The right a service call needs: writes (any method but GET, except queries and reads by POST) need the write right. */
export function requiredRight(service: 'dps' | 'hub', method: string, path: string): PolicyRight {
  const read =
    method === 'GET' ||
    (method === 'POST' && (/\/query$/i.test(path) || /\/attestationmechanism$/i.test(path)));
  if (service === 'hub') return read ? 'RegistryRead' : 'RegistryWrite';
  if (/^\/registrations(\/|$)/i.test(path))
    return read ? 'RegistrationStatusRead' : 'RegistrationStatusWrite';
  return read ? 'EnrollmentRead' : 'EnrollmentWrite';
}

const IMPLIED: Partial<Record<PolicyRight, PolicyRight>> = {
  RegistryRead: 'RegistryWrite',
  EnrollmentRead: 'EnrollmentWrite',
  RegistrationStatusRead: 'RegistrationStatusWrite',
};

/** Throws a 401 naming the permission the policy lacks (IoT Hub answers a missing right with 401). */
export function checkRight(policy: SharedAccessPolicy | undefined, needed: PolicyRight): void {
  if (!policy?.rights) return;
  const implied = IMPLIED[needed];
  if (policy.rights.includes(needed) || (implied && policy.rights.includes(implied))) return;
  throw new ServiceError(
    'unauthorized',
    `Unauthorized: the shared access policy ${policy.name} does not have the ${needed} permission`,
  );
}
