"""Places: the gazetteer of Kazakhstan and Kyrgyzstan down to villages, and (to come) resolving mentions to it."""
