"""The asset register (street lights first): import, reads, the lamp an observation names,
referral to the lamp's owner, and dark gaps along walks' routes."""
