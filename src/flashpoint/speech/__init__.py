"""Dangerous-speech signals: lexicons and rules that need no training, a trainable linear model, and
a HateCheck-style functional suite that measures both. Data (lexicons, templates) lives in
``flashpoint/data/speech``; nothing here does I/O beyond reading those files and a saved model."""
