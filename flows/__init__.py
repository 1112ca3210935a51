"""Prefect flows and deployments only: they declare which tasks run in which order."""
