"""`trialwatch run`: the scheduler, the HTTP server, Socket Mode and slash commands."""
