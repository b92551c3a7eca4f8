import sys

from pseudodesk.gui.app import main

sys.exit(main())
