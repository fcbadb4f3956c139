"""`python -m tunelab COMMAND ...`: the `tunelab` command."""

from tunelab.cli import main

if __name__ == "__main__":  # not when a child process imports it as its parent's main module
    main()
