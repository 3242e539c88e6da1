/**
 * Turns the command line's selector and action flags into the core's Selection and Actions.
 * Everything here is validation: a wrong combination is a UserError that says what to do.
 */
import { z } from 'zod';
import {
  type Actions,
  type DeviceChoice,
  ORPHANED_RECORDS_ACTIONS,
  type Selection,
} from '../core/selection.js';
import { printable } from '../core/text.js';
import { UserError } from '../core/errors.js';

export interface SelectorFlags {
  enrollment?: string;
  group?: string;
  device?: string[];
  /** The ID of a deleted enrollment group whose remaining registration records are to be deleted. */
  orphanedRecords?: string;
  /** Device certificates as PEM text (already read from the files the person named). */
  deviceCertPems?: { file: string; pem: string; commonName: string }[];
  /** --device-id: devices by their IDs, wherever they are enrolled. */
  deviceIds?: string[];
  /** --devices-from: the file's text, one ID a line. */
  devicesFrom?: { file: string; text: string };
}

/** The IDs of a --devices-from file: one a line, blank lines and # comments ignored. */
export function parseDeviceList(file: string, text: string): string[] {
  const ids: string[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    checkId(`--devices-from ${printable(file)} line ${i + 1}:`, line);
    ids.push(line);
  }
  if (ids.length === 0)
    throw new UserError(`--devices-from ${printable(file)}: no device ID in it (one a line)`);
  return ids;
}

export interface ActionFlags {
  disenroll?: string;
  deregister?: string;
  deleteRegistrations?: boolean;
  deleteGroup?: boolean;
  includeChildren?: boolean;
  orphanedRecords?: string;
}

// DPS registration IDs: alphanumeric, lower case, and '-', '.', '_', ':' (max 128); device IDs allow more.
const idSchema = z
  .string()
  .min(1, 'is empty')
  .max(128, 'is longer than 128 characters')
  .regex(/^[A-Za-z0-9\-._:]+$/, 'may only contain letters, digits and - . _ :');

function checkId(flag: string, value: string): string {
  const r = idSchema.safeParse(value);
  if (!r.success) throw new UserError(`${flag} "${printable(value)}" ${r.error.issues[0]?.message}`);
  return value;
}

/** Echo user input safely (the one sanitizer, bounded length). */
export { printable };

export function parseSelector(flags: SelectorFlags): Selection {
  const devices = flags.device ?? [];
  const certs = flags.deviceCertPems ?? [];
  if (flags.orphanedRecords !== undefined) {
    if (
      flags.enrollment ||
      flags.group ||
      devices.length ||
      certs.length ||
      flags.deviceIds?.length ||
      flags.devicesFrom
    ) {
      throw new UserError(
        '--orphaned-records GROUP_ID deletes the records a deleted group left: give it alone, without --enrollment, --group, --device, --device-cert, --device-id or --devices-from',
      );
    }
    return { kind: 'group', groupId: checkId('--orphaned-records', flags.orphanedRecords) };
  }
  const named = [
    ...(flags.deviceIds ?? []).map((id) => checkId('--device-id', id)),
    ...(flags.devicesFrom ? parseDeviceList(flags.devicesFrom.file, flags.devicesFrom.text) : []),
  ];
  if (flags.deviceIds?.length || flags.devicesFrom) {
    if (flags.enrollment || flags.group || devices.length || certs.length) {
      throw new UserError(
        '--device-id and --devices-from find devices wherever they are enrolled: use them without --enrollment, --group, --device or --device-cert',
      );
    }
    return { kind: 'devices', ids: [...new Set(named)] };
  }
  if (flags.enrollment && flags.group) {
    throw new UserError('give either --enrollment ID or --group ID, not both');
  }
  if (!flags.enrollment && !flags.group) {
    throw new UserError(
      'say what to deprovision: --enrollment ID (individual enrollment) or --group ID (enrollment group), ' +
        'or devices by their IDs: --device-id ID / --devices-from FILE',
    );
  }
  if (flags.enrollment) {
    if (devices.length || certs.length) {
      throw new UserError(
        '--device and --device-cert pick devices of an enrollment group: use them with --group ID',
      );
    }
    return { kind: 'enrollment', registrationId: checkId('--enrollment', flags.enrollment) };
  }
  const groupId = checkId('--group', flags.group as string);
  if (!devices.length && !certs.length) return { kind: 'group', groupId };
  const chosen = new Map<string, DeviceChoice>();
  for (const d of devices) {
    checkId('--device', d);
    if (chosen.has(d)) throw new UserError(`--device ${printable(d)} is given twice`);
    chosen.set(d, { registrationId: d });
  }
  for (const c of certs) {
    // An X.509 device's registration ID is its certificate's subject CN.
    const existing = chosen.get(c.commonName);
    if (existing?.certificatePem) {
      throw new UserError(
        `--device-cert ${printable(c.file)}: a second certificate for device ${printable(c.commonName)}`,
      );
    }
    if (!existing && devices.length) {
      throw new UserError(
        `--device-cert ${printable(c.file)}: its subject CN "${printable(c.commonName)}" is none of the --device values; ` +
          "an X.509 device's registration ID is its certificate's CN",
      );
    }
    checkId(`--device-cert ${printable(c.file)} (subject CN)`, c.commonName);
    chosen.set(c.commonName, { registrationId: c.commonName, certificatePem: c.pem });
  }
  return { kind: 'groupDevices', groupId, devices: [...chosen.values()] };
}

const disenrollSchema = z.enum(['disable', 'delete']);
const deregisterSchema = z.enum(['disable', 'delete', 'none']);

export function parseActions(flags: ActionFlags, selection: Selection): Actions {
  if (flags.orphanedRecords !== undefined) {
    const given = [
      flags.disenroll !== undefined ? '--disenroll' : '',
      flags.deregister !== undefined ? '--deregister' : '',
      flags.deleteRegistrations ? '--delete-registrations' : '',
      flags.deleteGroup ? '--delete-group' : '',
      flags.includeChildren ? '--include-children' : '',
    ].filter((f) => f !== '');
    if (given.length > 0) {
      throw new UserError(
        `--orphaned-records only deletes registration records (no DPS or hub action): leave out ${given.join(', ')}`,
      );
    }
    return ORPHANED_RECORDS_ACTIONS;
  }
  if (flags.disenroll === undefined) {
    throw new UserError(
      'say what to do at DPS: --disenroll disable (temporary) or --disenroll delete (permanent)',
    );
  }
  const disenroll = disenrollSchema.safeParse(flags.disenroll);
  if (!disenroll.success) {
    throw new UserError(`--disenroll "${printable(flags.disenroll)}": expected disable or delete`);
  }
  if (flags.deregister === undefined) {
    throw new UserError('say what to do on the hub: --deregister disable, delete or none');
  }
  const deregister = deregisterSchema.safeParse(flags.deregister);
  if (!deregister.success) {
    throw new UserError(`--deregister "${printable(flags.deregister)}": expected disable, delete or none`);
  }
  const deleteRegistrations = flags.deleteRegistrations === true;
  const deleteGroup = flags.deleteGroup === true;
  if ((deleteRegistrations || deleteGroup) && selection.kind !== 'group') {
    const flag = deleteRegistrations ? '--delete-registrations' : '--delete-group';
    throw new UserError(`${flag} cleans up a whole enrollment group: use it with --group ID and no --device`);
  }
  if (flags.includeChildren === true && deregister.data === 'none') {
    throw new UserError(
      '--include-children deregisters the children of an IoT Edge gateway: use it with --deregister disable or delete',
    );
  }
  return {
    disenroll: disenroll.data,
    deregister: deregister.data,
    deleteRegistrations,
    deleteGroup,
    ...(flags.includeChildren === true ? { includeChildren: true } : {}),
  };
}
