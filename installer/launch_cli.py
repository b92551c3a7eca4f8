"""Entry point of the frozen command line (PyInstaller runs this file as __main__)."""

import sys

from pseudodesk.cli.main import main

sys.exit(main())
