"""The programme calendar: milestones from stored state and the team's guidance, as a table,
an iCalendar feed and a "Coming up" section."""
