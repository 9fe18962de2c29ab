"""Who is calling and what they may do: sign-in, tokens, staff accounts, the organization,
passwords and JWTs, the principal and the one permission policy."""
