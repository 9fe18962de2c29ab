"""Deadlines: the organization's response-time rules and the due dates that follow from them.

``calendar`` is pure date arithmetic (working days, public holidays); ``rules`` reads the rules
and picks the one an item falls under (grouping calls it when it creates an item); ``service``
replaces the list and applies it to open items; ``router`` is HTTP. Nothing is imported here, so
grouping can import ``rules`` without pulling in the rest.
"""
