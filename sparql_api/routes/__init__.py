"""The HTTP routers, one module per resource; what they share lives in sparql_api's own modules."""
