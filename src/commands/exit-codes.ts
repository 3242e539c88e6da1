/**
 * Exit codes (a contract: tests and docs rely on them), in a module of their own so that the launcher
 * can use them without loading the headless commands.
 */
export const EXIT = { done: 0, failed: 1, usage: 2, aborted: 3 } as const;
