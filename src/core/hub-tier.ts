/**
 * IoT hub tiers, one list for every flag that names one (`--hub-tier`, `emulator --tier`). Basic and free
 * hubs have the identity registry and query throttles of the standard tier of the same size.
 */
export const HUB_TIERS = ['S1', 'S2', 'S3', 'B1', 'B2', 'B3', 'F1'] as const;
export type HubTierName = (typeof HUB_TIERS)[number];

/** The tier named by a flag value (any case), or undefined when it names none. */
export const toHubTier = (value: string): HubTierName | undefined =>
  HUB_TIERS.find((tier) => tier === value.trim().toUpperCase());

const STANDARD: Record<HubTierName, 'S1' | 'S2' | 'S3'> = {
  S1: 'S1',
  S2: 'S2',
  S3: 'S3',
  B1: 'S1',
  B2: 'S2',
  B3: 'S3',
  F1: 'S1',
};

/** The standard tier with the same throttles (what the emulator simulates). */
export const standardTier = (tier: HubTierName): 'S1' | 'S2' | 'S3' => STANDARD[tier];

/** "S1, S2, S3, B1, B2, B3 or F1": for messages. */
export const HUB_TIER_LIST = `${HUB_TIERS.slice(0, -1).join(', ')} or ${HUB_TIERS[HUB_TIERS.length - 1]}`;
