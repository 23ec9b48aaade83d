"""The vendored source documents and the manifest that lists them (package data)."""
