"""Finding what recurs across episodes: fingerprints, an inverted index, offset voting, recurring segments."""
