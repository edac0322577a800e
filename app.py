"""`python app.py` runs the product: ingest seeds/ if needed, then the CLI chat (web app to come)."""
from qa.cli import main

if __name__ == "__main__":
    import sys

    sys.argv = ["qa", "chat"]
    main()
