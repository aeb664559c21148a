"""Fakes shared by the test suites: loopback servers standing in for outside services."""
