"""Knowledge bases: parsing, normalisation, Japanese-aware chunking, hybrid search and ingestion jobs."""
