import sys

from pseudodesk.cli.main import main

sys.exit(main())
