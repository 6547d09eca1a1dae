#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite: SQLite and PostgreSQL (127.0.0.1:5432),
# the real corpus in ../shared/corpus when present, The Sleuth Kit as the oracle.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/python -m pytest -n 2 --dist loadfile -q "$@"
