"""The platform kit: configuration, database and Redis plumbing, errors, HTTP helpers,
pages, ids, clock, the enqueue facade. It imports no business domain (the build checks
it), so every domain may import it."""
