"""The store layer: a KnowledgeStore protocol with embedded (Oxigraph) and remote (SPARQL 1.1 Protocol)
implementations, shared term conversion and errors, SPARQL text handling, and atomic builds.

Imports nothing of the other layers.
"""
