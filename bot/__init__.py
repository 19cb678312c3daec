"""trialwatch application: config, orchestration, delivery, commands and service."""
