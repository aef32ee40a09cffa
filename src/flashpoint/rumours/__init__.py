"""Rumours: near-duplicate clusters of forwarded messages, and the registry of fact-checked claims they match."""
