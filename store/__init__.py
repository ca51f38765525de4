"""The data model and the operations on it. No Slack imports here."""
