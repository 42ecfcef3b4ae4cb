"""How a notification looks in each format: email (text + HTML), Slack, Teams, PagerDuty Events v2."""
