"""Running cases: targets, the agent tool loop, the runner, the cache, evidence."""
