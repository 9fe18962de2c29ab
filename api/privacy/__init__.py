"""Privacy: sensitive places, retention, and erasure on request."""
