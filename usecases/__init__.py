"""Use cases: one function per thing a person or a job does, each in one unit of work.

They take ids and values and return result values (never mrkdwn): the words are bot/'s."""
