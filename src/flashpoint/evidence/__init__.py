"""Evidence: the hash-chained raw archive and its verification."""
