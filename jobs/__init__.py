"""Scheduled work: the outbox sender, nudges, digests, reports, and the claims that keep
each run to exactly one replica."""
