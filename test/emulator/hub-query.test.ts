/** The emulator's query parser: IN lists whose quoted IDs hold commas, quotes or the word AND. */
import { describe, expect, it } from 'vitest';
import { parseDeviceQuery } from '../../src/services/emulator/hub-query.js';

const matching = (sql: string, ids: string[]) => {
  const q = parseDeviceQuery(sql);
  return ids.filter((deviceId) => q.where.every((w) => w({ deviceId, status: 'enabled' })));
};

describe('SELECT * FROM devices WHERE deviceId IN [...]', () => {
  const ids = ['a', 'b,c', "it's", 'x AND y', 'd', '42'];

  it('quoted IDs are whole values, whatever they hold', () => {
    expect(matching(`SELECT * FROM devices WHERE deviceId IN ['b,c', "it's", 'x AND y']`, ids)).toEqual([
      'b,c',
      "it's",
      'x AND y',
    ]);
    expect(matching(`SELECT * FROM devices WHERE deviceId IN ['it''s','a']`, ids)).toEqual(['a', "it's"]);
    expect(matching(`SELECT * FROM devices WHERE deviceId IN ['42']`, ids)).toEqual(['42']);
  });

  it('joined by AND with other conditions', () => {
    expect(
      matching(`SELECT * FROM devices WHERE deviceId IN ['a', 'd'] AND status = 'enabled'`, ids),
    ).toEqual(['a', 'd']);
    expect(matching(`SELECT * FROM devices WHERE deviceId IN ['a'] AND status != 'enabled'`, ids)).toEqual(
      [],
    );
  });

  it.each([
    `SELECT * FROM devices WHERE deviceId IN ['a'`,
    `SELECT * FROM devices WHERE deviceId IN ['a' 'b']`,
    `SELECT * FROM devices WHERE deviceId IN ['a'] XOR status = 'x'`,
    `SELECT deviceId FROM devices`,
    `SELECT * FROM devices WHERE (status = 'enabled'`,
    `SELECT * FROM devices WHERE STARTS_WITH(deviceId, 3)`,
    `SELECT * FROM devices GROUP BY status`,
    `SELECT * FROM devices WHERE deviceId LIKE 'a%'`,
  ])('anything else is a 400 saying what is supported: %s', (sql) => {
    expect(() => parseDeviceQuery(sql)).toThrow(/this emulator supports/);
  });
});

describe('the rest of the language a deprovisioning tool meets', () => {
  const twins: Record<string, unknown>[] = [
    {
      deviceId: 'gw-1',
      status: 'enabled',
      capabilities: { iotEdge: true },
      deviceScope: 'ms-azure-iot-edge://gw-1-1',
      parentScopes: [],
    },
    {
      deviceId: 'leaf-1',
      status: 'disabled',
      deviceScope: 'ms-azure-iot-edge://gw-1-1',
      parentScopes: ['ms-azure-iot-edge://gw-1-1'],
      tags: { site: 'berlin', floor: 3 },
    },
    { deviceId: 'leaf-2', status: 'enabled', parentScopes: [], tags: { site: 'oslo', floor: 1 } },
    { deviceId: 'meter-9', status: 'enabled', parentScopes: [] },
  ];
  const ids = (sql: string) => {
    const q = parseDeviceQuery(sql);
    return twins.filter((t) => q.where.every((w) => w(t))).map((t) => t.deviceId);
  };

  it('OR, NOT and parentheses', () => {
    expect(ids(`SELECT * FROM devices WHERE deviceId = 'gw-1' OR status = 'disabled'`)).toEqual([
      'gw-1',
      'leaf-1',
    ]);
    expect(ids(`SELECT * FROM devices WHERE NOT status = 'enabled'`)).toEqual(['leaf-1']);
    expect(
      ids(`SELECT * FROM devices WHERE status = 'enabled' AND (deviceId = 'leaf-2' OR deviceId = 'meter-9')`),
    ).toEqual(['leaf-2', 'meter-9']);
  });

  it('comparisons on nested fields; an undefined field compares false', () => {
    expect(ids(`SELECT * FROM devices WHERE tags.floor > 1`)).toEqual(['leaf-1']);
    expect(ids(`SELECT * FROM devices WHERE tags.floor <= 1`)).toEqual(['leaf-2']);
    expect(ids(`SELECT * FROM devices WHERE tags.site != 'oslo'`)).toEqual(['leaf-1']);
    expect(ids(`SELECT * FROM devices WHERE capabilities.iotEdge = true`)).toEqual(['gw-1']);
    expect(ids(`SELECT * FROM devices WHERE tags.site NIN ['oslo']`)).toEqual(['leaf-1']);
  });

  it('IS_DEFINED, STARTS_WITH, ENDS_WITH, ARRAY_CONTAINS', () => {
    expect(ids(`SELECT * FROM devices WHERE IS_DEFINED(tags.site)`)).toEqual(['leaf-1', 'leaf-2']);
    expect(ids(`SELECT * FROM devices WHERE NOT IS_DEFINED(tags)`)).toEqual(['gw-1', 'meter-9']);
    expect(ids(`SELECT * FROM devices WHERE STARTS_WITH(deviceId, 'leaf-')`)).toEqual(['leaf-1', 'leaf-2']);
    expect(ids(`SELECT * FROM devices WHERE ENDS_WITH(deviceId, '-9')`)).toEqual(['meter-9']);
    expect(
      ids(`SELECT * FROM devices WHERE ARRAY_CONTAINS(parentScopes, 'ms-azure-iot-edge://gw-1-1')`),
    ).toEqual(['leaf-1']);
  });

  it('FROM devices.modules', () => {
    expect(parseDeviceQuery(`SELECT * FROM devices.modules WHERE devices.modules.moduleId = 'm'`).from).toBe(
      'devices.modules',
    );
  });
});
