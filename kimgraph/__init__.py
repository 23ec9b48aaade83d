"""The kimgraph command line: build, validate, query, export, extract and serve."""
