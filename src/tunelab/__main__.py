"""`python -m tunelab COMMAND ...`: the `tunelab` command."""

from tunelab.cli import main

main()
