"""Staff tooling: conversation tests, exploration, hot reload."""
