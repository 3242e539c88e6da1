/**
 * The lock file is correct between processes: of several processes racing for one lock (free, or left
 * by a dead process), exactly one gets it; the others are told who holds it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, readLockHolder } from '../../src/services/pid-lock.js';
import { PROJECT_ROOT } from '../support/cli.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pid-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const CHILD = join(PROJECT_ROOT, 'test', 'support', 'lock-child.ts');

/** Starts `n` processes that all try the lock once the go file appears; answers their first lines. */
async function race(n: number, lockPath: string): Promise<{ children: ChildProcess[]; answers: string[] }> {
  const go = join(dir, 'go');
  const children: ChildProcess[] = [];
  const answers: Promise<string>[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, lockPath, go], {
      cwd: PROJECT_ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    children.push(child);
    ready.push(new Promise((r) => child.once('spawn', () => r())));
    answers.push(
      new Promise((resolve) => {
        let out = '';
        child.stdout?.setEncoding('utf8').on('data', (t: string) => {
          out += t;
          if (out.includes('\n')) resolve(`${out.split('\n')[0]}`);
        });
      }),
    );
  }
  await Promise.all(ready);
  // Give the children time to load before the go (tsx start-up); they then race for real.
  await new Promise((r) => setTimeout(r, 1500));
  writeFileSync(go, '');
  return { children, answers: await Promise.all(answers) };
}

async function endAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise((r) => {
          c.once('exit', r);
          c.stdin?.end();
        }),
    ),
  );
}

describe('pid lock between processes', () => {
  it('of four processes racing for a free lock, exactly one gets it; the others name its pid', async () => {
    const lockPath = join(dir, 'x.lock');
    const { children, answers } = await race(4, lockPath);
    try {
      const winners = answers.filter((a) => a === 'got');
      expect(winners).toHaveLength(1);
      const winnerPid = children[answers.indexOf('got')]?.pid;
      for (const a of answers.filter((x) => x !== 'got')) expect(a).toBe(`busy ${winnerPid}`);
      expect(readLockHolder(lockPath)?.holder).toMatchObject({ pid: winnerPid, runId: `run-${winnerPid}` });
    } finally {
      await endAll(children);
    }
    expect(existsSync(lockPath), 'the holder released it').toBe(false);
  }, 60_000);

  it('of four processes racing for a lock a dead process left, exactly one takes it over', async () => {
    const lockPath = join(dir, 'x.lock');
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => dead.once('exit', r));
    writeFileSync(lockPath, JSON.stringify({ pid: dead.pid, startedAt: new Date().toISOString() }));
    const { children, answers } = await race(4, lockPath);
    try {
      expect(answers.filter((a) => a === 'got')).toHaveLength(1);
      const winnerPid = children[answers.indexOf('got')]?.pid;
      expect(answers.filter((a) => a !== 'got')).toEqual([
        `busy ${winnerPid}`,
        `busy ${winnerPid}`,
        `busy ${winnerPid}`,
      ]);
    } finally {
      await endAll(children);
    }
  }, 60_000);

  it('a live holder is not taken over; a release removes only its own lock', () => {
    const lockPath = join(dir, 'y.lock');
    const release = acquireLock(lockPath, () => new Error('busy'));
    expect(() => acquireLock(lockPath, (h) => new Error(`busy ${h?.pid}`))).toThrow(`busy ${process.pid}`);
    // Someone else's lock (written after ours was, say, taken over) survives our release.
    writeFileSync(lockPath, JSON.stringify({ pid: 1, startedAt: new Date().toISOString() }));
    release();
    expect(readFileSync(lockPath, 'utf8')).toContain('"pid":1');
  });
});
