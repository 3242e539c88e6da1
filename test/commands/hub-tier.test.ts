import { describe, expect, it } from 'vitest';
import { parseEmulatorFlags } from '../../src/commands/emulator.js';
import { HUB_TIERS, standardTier, toHubTier } from '../../src/core/hub-tier.js';

describe('hub tiers: one list for --hub-tier and emulator --tier', () => {
  it('every tier --hub-tier takes, in any case, the emulator takes too (at its standard size)', () => {
    for (const tier of HUB_TIERS) {
      for (const typed of [tier, tier.toLowerCase()]) {
        expect(toHubTier(typed), typed).toBe(tier);
        expect(parseEmulatorFlags({ tier: typed }).tier, typed).toBe(standardTier(tier));
      }
    }
    expect(standardTier('B2')).toBe('S2');
    expect(standardTier('F1')).toBe('S1');
  });

  it('a value that names no tier is refused by both, with the same list', () => {
    expect(toHubTier('S4')).toBeUndefined();
    expect(() => parseEmulatorFlags({ tier: 'S4' })).toThrow('--tier expects S1, S2, S3, B1, B2, B3 or F1');
  });
});
