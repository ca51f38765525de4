"""Thin Slack listeners: parse, check, call the store, render, reply."""
