"""Thin routers per resource: parse the body, build the command, call the handler, shape the response."""
