"""`python app.py` starts the web app: the chat at / and the REST API at /api (docs at /docs).

It builds the index from seeds/ first when it is missing or stale. Settings come from
qa.toml and QA_* variables (QA_HOST, QA_PORT, QA_STORE_DIR, QA_API_KEY, ...).
"""
import sys

from qa.faces.cli import main

if __name__ == "__main__":
    sys.argv = ["qa", "serve", *sys.argv[1:]]
    main()
