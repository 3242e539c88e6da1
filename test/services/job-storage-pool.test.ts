/**
 * The pool's naming of containers: the same container given twice (or journaled in one spelling, given
 * in another) is one container; a pool is named by its containers, without SAS.
 */
import { describe, expect, it } from 'vitest';
import { openJobStorage } from '../../src/services/storage/job-storage.js';
import { poolOf, sameContainer } from '../../src/services/storage/job-storage-pool.js';

const SAS = 'sv=2025-07-05&sr=c&sp=rwdl&sig=c2lnbmF0dXJl';

describe('job storage pool naming', () => {
  it('one container however it is spelled: host case, a trailing slash, with or without its SAS', () => {
    expect(
      sameContainer('https://acct.blob.core.windows.net/jobs', 'https://ACCT.blob.core.windows.net/jobs/'),
    ).toBe(true);
    expect(
      sameContainer('https://acct.blob.core.windows.net/jobs', 'https://acct.blob.core.windows.net/jobs2'),
    ).toBe(false);
    const pool = poolOf([
      openJobStorage(`https://acct.blob.core.windows.net/jobs?${SAS}`),
      openJobStorage(`https://ACCT.blob.core.windows.net/jobs/?${SAS}`),
      openJobStorage(`https://acct.blob.core.windows.net/jobs-2?${SAS}`),
    ]);
    expect(pool.containers).toHaveLength(2);
    expect(pool.display).toBe(
      'https://acct.blob.core.windows.net/jobs, https://acct.blob.core.windows.net/jobs-2',
    );
    expect(pool.display).not.toContain('sig=');
  });
});
