"""[[notify]] destinations: any Apprise URL (Teams, Discord, Mattermost, ntfy, webhooks, ...)."""
