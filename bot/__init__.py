"""Composition root: settings, the Bolt app, servers, scheduler and the CLI."""
