"""`python -m qa` runs the CLI."""
from qa.faces.cli import main

main()
