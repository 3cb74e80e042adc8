"""What the tests and the benchmarks share that Hypobot itself never needs, kept out of the
wheel: scratch PostgreSQL databases, the tests' signing secret, and a fake Slack that can be
told to misbehave (slow answers, errors, 5xx, 429) on top of the console's."""
