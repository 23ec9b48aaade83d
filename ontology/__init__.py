"""The KIM ontology and its JSON-LD context (package data)."""
