"""Text analysis for matching: pure functions over strings, no I/O, no store or source imports."""
