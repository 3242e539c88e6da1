// Ink renders non-interactively (final frame only) when CI is set: the TUI tests need the interactive
// renderer a person gets, whatever machine runs them. Runs before any test file imports Ink.
delete process.env.CI;
delete process.env.CONTINUOUS_INTEGRATION;
