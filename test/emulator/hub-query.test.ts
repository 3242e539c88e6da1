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
    `SELECT * FROM devices WHERE deviceId IN ['a'] OR status = 'x'`,
    `SELECT * FROM devices WHERE deviceId LIKE 'a%'`,
  ])('anything else is a 400 saying what is supported: %s', (sql) => {
    expect(() => parseDeviceQuery(sql)).toThrow(/this emulator supports/);
  });
});
