"""Helpers shared by tests in different folders (real servers on loopback, not fakes)."""
