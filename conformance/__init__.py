"""The conformance layer: the SHACL shapes, compiled to SPARQL (the fast engine) or run by pyshacl (the
reference), and the reports they give.
"""
