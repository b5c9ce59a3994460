"""`python -m leadboost_schema`: the same command as `leadboost-schema`."""
import sys

from leadboost_schema.cli import main

sys.exit(main())
