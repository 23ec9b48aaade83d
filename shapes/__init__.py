"""The SHACL shapes, one file per target class (package data)."""
