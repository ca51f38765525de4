"""A local sandbox that plays Slack, so the bot can be tried in a browser without a workspace."""
