"""Operations: what running safewalk for real needs beyond the domain.

The OpenAPI document's problem responses and ``Allow`` on 405 (``openapi``), request ids and
structured logs (``logs``), Prometheus metrics (``metrics``), readiness against the schema
(``readiness``), security headers and CORS (``headers``), throttle storage shared by replicas
(``throttles``), and backup and restore (``backup``).
"""
