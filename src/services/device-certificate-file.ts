/**
 * Reads a device certificate file the person named (the TUI's "attach a certificate") and checks it for
 * one device of an X.509 group. Every failure is a UserError that names the file and says what to do.
 */
import { readFile, stat } from 'node:fs/promises';
import { checkDeviceCertificate, type DeviceCertificate } from '../core/device-certificate.js';
import { isUserError, UserError } from '../core/errors.js';
import type { CertificateInfo, EnrollmentGroup } from '../core/model.js';
import { printable } from '../core/text.js';

/** A certificate chain is a few kilobytes; anything much larger is not one. */
const MAX_BYTES = 256 * 1024;

export async function readDeviceCertificate(
  path: string,
  group: EnrollmentGroup,
  registrationId: string,
  options: { caCertificates?: Record<string, CertificateInfo>; now?: Date } = {},
): Promise<DeviceCertificate> {
  const shown = printable(path);
  const fail = (why: string): never => {
    throw new UserError(`${shown}: ${why}`, { code: 'certificate' });
  };
  if (path.trim() === '') fail('no file given: type the path of the device certificate (PEM)');
  let size = 0;
  try {
    const info = await stat(path);
    if (info.isDirectory()) fail('is a directory: give the path of the certificate file inside it');
    size = info.size;
  } catch (e) {
    if (isUserError(e)) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    fail(
      code === 'ENOENT'
        ? 'no such file: check the path'
        : 'cannot be read: check the path and its permissions',
    );
  }
  if (size > MAX_BYTES)
    fail(`is ${Math.round(size / 1024)} KiB, too large for a certificate chain: give the PEM file`);
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch {
    fail('cannot be read: check its permissions');
  }
  try {
    return checkDeviceCertificate(text, group, registrationId, options);
  } catch (e) {
    if (isUserError(e, 'certificate')) fail(e.message);
    throw e;
  }
}
