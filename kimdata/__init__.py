"""The data every layer shares: the vocabulary namespaces and the data folders (ontology, shapes, queries,
curated facts, sources), shipped as package data; imports nothing of the project."""
