"""Broadcasts: one message to a filtered audience of linked users, throttled, resumable, never twice."""
