"""Test and benchmark fixtures that are real, not mocks: a tiny GGUF writer and a loopback server."""
