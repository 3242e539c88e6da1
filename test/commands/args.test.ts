import { describe, expect, it } from 'vitest';
import { parseActions, parseDeviceList, parseSelector, printable } from '../../src/commands/args.js';

describe('parseSelector', () => {
  it('reads an individual enrollment', () => {
    expect(parseSelector({ enrollment: 'tpm-01' })).toEqual({ kind: 'enrollment', registrationId: 'tpm-01' });
  });
  it('reads a whole group', () => {
    expect(parseSelector({ group: 'g1' })).toEqual({ kind: 'group', groupId: 'g1' });
  });
  it('reads devices of a group, pairing certificates by subject CN', () => {
    const s = parseSelector({
      group: 'g1',
      device: ['dev-1', 'dev-2'],
      deviceCertPems: [{ file: 'dev-2.pem', pem: 'PEM2', commonName: 'dev-2' }],
    });
    expect(s).toEqual({
      kind: 'groupDevices',
      groupId: 'g1',
      devices: [{ registrationId: 'dev-1' }, { registrationId: 'dev-2', certificatePem: 'PEM2' }],
    });
  });
  it('takes a certificate alone as naming its device', () => {
    const s = parseSelector({
      group: 'g1',
      deviceCertPems: [{ file: 'a.pem', pem: 'P', commonName: 'dev-9' }],
    });
    expect(s).toEqual({
      kind: 'groupDevices',
      groupId: 'g1',
      devices: [{ registrationId: 'dev-9', certificatePem: 'P' }],
    });
  });
  it.each([
    [{}, /--enrollment ID .* or --group ID/],
    [{ enrollment: 'a', group: 'b' }, /not both/],
    [{ enrollment: 'a', device: ['x'] }, /use them with --group/],
    [{ group: 'g', device: ['x', 'x'] }, /given twice/],
    [{ group: 'g b' }, /--group "g b" may only contain/],
    [
      { group: 'g', device: ['d1'], deviceCertPems: [{ file: 'c.pem', pem: 'P', commonName: 'other' }] },
      /CN "other" is none of/,
    ],
  ])('refuses %j', (flags, message) => {
    expect(() => parseSelector(flags as never)).toThrow(message);
  });
  it('takes --device-id and --devices-from as one devices selection (comments and blank lines ignored, repeats once)', () => {
    const s = parseSelector({
      deviceIds: ['d-1', 'd-2'],
      devicesFrom: { file: 'list.txt', text: '# shipment 7\r\nd-3\n\n  d-1  # again\n' },
    });
    expect(s).toEqual({ kind: 'devices', ids: ['d-1', 'd-2', 'd-3'] });
    expect(parseDeviceList('l.txt', 'a\n#b\nc')).toEqual(['a', 'c']);
    expect(() => parseDeviceList('l.txt', 'ok\nbad id\n')).toThrow(
      /--devices-from l.txt line 2: "bad id" may only contain/,
    );
    expect(() => parseSelector({ deviceIds: ['d-1'], enrollment: 'e' })).toThrow(
      /use them without --enrollment/,
    );
  });
  it('never echoes control characters from input', () => {
    // The one sanitizer: whole escape sequences go, not just their ESC byte.
    expect(printable('a\u001b[2Jb\u001b]52;c;ZXZpbA==\u0007\u202e')).toBe('ab');
    expect(() => parseSelector({ group: 'x\u001b[31m' })).toThrow(/"x" may only/);
  });
});

describe('parseActions', () => {
  const group = { kind: 'group', groupId: 'g' } as const;
  it('reads the actions', () => {
    expect(
      parseActions({ disenroll: 'disable', deregister: 'delete', deleteRegistrations: true }, group),
    ).toEqual({
      disenroll: 'disable',
      deregister: 'delete',
      deleteRegistrations: true,
      deleteGroup: false,
    });
  });
  it.each([
    [{ deregister: 'none' }, /--disenroll disable \(temporary\)/],
    [{ disenroll: 'remove', deregister: 'none' }, /expected disable or delete/],
    [{ disenroll: 'disable' }, /--deregister disable, delete or none/],
    [{ disenroll: 'disable', deregister: 'purge' }, /expected disable, delete or none/],
  ])('refuses %j', (flags, message) => {
    expect(() => parseActions(flags, group)).toThrow(message);
  });
  it('allows cleanup only for a whole group', () => {
    expect(() =>
      parseActions(
        { disenroll: 'disable', deregister: 'none', deleteGroup: true },
        { kind: 'enrollment', registrationId: 'e' },
      ),
    ).toThrow(/--delete-group cleans up a whole enrollment group/);
  });
});
