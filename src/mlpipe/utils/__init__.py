"""Helpers shared by the mlpipe components (private API)."""
