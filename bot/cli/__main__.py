"""`python -m bot.cli`: the same entry point as the `trialwatch` console script."""

from bot.cli import main

main()
