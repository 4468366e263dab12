"""`python -m gendata` runs the command line."""

from .cli import main

main()
