"""Everything that touches files and the network: safe image loading, dataset ingest, validated CSV
readers, the polite HTTP client, atomic writes and provenance hashes."""
