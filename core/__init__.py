"""What every app shares and nothing app-specific: client identity, outages and deadlines,
errors, conditional requests, cursors, progress, logging. It imports no app, so the apps depend on
it and never on each other through it (config, the project's wiring, imports the apps)."""
