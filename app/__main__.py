"""`python -m app`: the same as the `tessera` command."""

import sys

from .main import main

sys.exit(main())
