"""The HTTP edge: the request's dependencies, middleware, security headers, the OpenAPI
document, docs, health, metrics, and the web apps' mounts. It knows no domain."""
