"""What goes out to Slack, and when: rows queued in the unit of work that made them, the
sender that delivers them paced under Slack's limits, retries, and finding a lost post."""
