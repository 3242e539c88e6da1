/**
 * Authorization as the services check it: a SAS token signed with a shared access policy's key
 * (HMAC-SHA256 over url-encoded sr + "\n" + se), whose resource covers the host that was called and
 * whose expiry is in the future; or an Entra ID bearer token (here: one from a configured list).
 * Failure reasons name what was wrong, never the token or the key.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ServiceError } from './errors.js';
import type { SharedAccessPolicy } from './types.js';

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

/** Throws a 401 ServiceError unless the Authorization header grants access to the target. */
export function authorize(
  header: string | undefined,
  target: AuthTarget,
  bearerTokens: ReadonlySet<string>,
  nowSeconds: number,
): void {
  if (!header)
    throw new ServiceError('unauthorized', 'Unauthorized: the request has no Authorization header');
  if (/^Bearer\s+/i.test(header)) {
    const token = header.replace(/^Bearer\s+/i, '').trim();
    if (bearerTokens.has(token)) return;
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
      if (expected.length === given.length && timingSafeEqual(expected, given)) return;
    }
  }
  throw new ServiceError('unauthorized', 'Unauthorized: the SAS signature does not match the policy key');
}
