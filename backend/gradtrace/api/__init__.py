"""The HTTP service around the engine: app factory, settings, routes, schemas."""
