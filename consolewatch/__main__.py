"""`python -m consolewatch`."""

import sys

from consolewatch.cli import main

sys.exit(main())
